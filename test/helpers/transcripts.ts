import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';

/**
 * One record of the original server's tracker transcript (shared/spec/transcripts/README.md).
 * A copy lives in test/fixtures so that a clean clone runs without ../shared.
 */
export interface TrackerRecord {
  readonly id: string;
  readonly note: string;
  readonly request: string;
  readonly reply: string;
  readonly reply_args: Record<string, string> | null;
  readonly error: { code: string; text: string; callid?: string } | null;
}

const FILE = resolve(import.meta.dirname, '..', 'fixtures', 'transcripts', 'tracker.jsonl');

let cache: TrackerRecord[] | undefined;

export function trackerTranscript(): TrackerRecord[] {
  cache ??= readFileSync(FILE, 'utf8')
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as TrackerRecord);
  return cache;
}

/** Records whose id starts with `prefix` (e.g. `decode.`). */
export function transcriptRecords(prefix: string): TrackerRecord[] {
  return trackerTranscript().filter((record) => record.id.startsWith(prefix));
}

export function transcriptRecord(id: string): TrackerRecord {
  const record = trackerTranscript().find((candidate) => candidate.id === id);
  if (!record) throw new Error(`no transcript record ${id}`);
  return record;
}

/** Decodes the pairs of an `OK` reply line as a plain object (for map comparison). */
export function okPairs(replyLine: string): Record<string, string> | null {
  const match = /^OK (\S*)\r\n$/.exec(replyLine);
  if (!match) return null;
  const pairs: Record<string, string> = {};
  for (const piece of match[1]!.split('&')) {
    if (piece === '') continue;
    const [name = '', value = ''] = piece.split('=', 2);
    pairs[formDecode(name)] = formDecode(value);
  }
  return pairs;
}

function formDecode(text: string): string {
  return decodeURIComponent(text.replaceAll('+', ' '));
}
