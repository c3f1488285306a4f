import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TrackerConnection } from '../helpers/tracker-connection.js';
import { type SpawnedTracker, spawnTracker } from '../helpers/tracker-process.js';
import { okPairs, type TrackerRecord, trackerTranscript } from '../helpers/transcripts.js';

/**
 * Replays the original server's records (shared/spec/transcripts) against a mogile
 * tracker, in their order, on one connection, compared by the transcript README's rules.
 */
const REPLAYED = /^(parse\.|decode\.|bang\.|misc\.(test|sleep|plugin))/;
const records = trackerTranscript().filter((record) => REPLAYED.test(record.id));
const FRESH_CONNECTION = new Set(['bang.watch_on', 'bang.watch_off']);

/** What mogile answers where it deliberately differs from the record. */
const OUR_REPLY: Readonly<Record<string, string>> = {
  // README quirk 2: the original leaked an earlier request's callid.
  'bang.space_version': 'ERR unknown_command Unknown+server+command\r\n',
};

/** Multi-line `!` replies whose content varies between runs: compare their shape. */
const SHAPES: Readonly<Record<string, (reply: string) => void>> = {
  'bang.stats': (reply) => {
    const lines = reply.split('\r\n').slice(0, -2);
    expect(lines.slice(0, 4).map((line) => line.split(' ')[0])).toEqual([
      'uptime',
      'pending_queries',
      'processing_queries',
      'bored_queryworkers',
    ]);
    for (const line of lines) expect(line).toMatch(/^\w+ \d+$/);
    const counters = lines.slice(4).map((line) => line.split(' ')[0]!);
    expect(counters).toEqual([...counters].sort());
    expect(counters).toContain('queries');
  },
  'bang.jobs': (reply) => {
    const lines = reply.split('\r\n').slice(0, -2);
    const jobs = [...new Set(lines.map((line) => line.split(' ')[0]))];
    expect(jobs).toEqual([
      'delete',
      'fsck',
      'job_master',
      'monitor',
      'queryworker',
      'reaper',
      'replicate',
    ]);
    for (const [i, line] of lines.entries()) {
      const kind = ['count', 'desired', 'pids'][i % 3];
      expect(line).toMatch(
        kind === 'pids' ? /^\w+ pids( \d+)*$/ : new RegExp(`^\\w+ ${kind} \\d+$`),
      );
    }
  },
  'bang.recent': (reply) => {
    const lines = reply.split('\r\n').slice(0, -2);
    expect(lines.length).toBeGreaterThan(10);
    expect(lines.length).toBeLessThanOrEqual(50);
    for (const line of lines) expect(line).toMatch(/^127\.0\.0\.1 .* \d+\.\d{4} \d+\.\d{4}$/);
    expect(lines.some((line) => line.startsWith('127.0.0.1 ! '))).toBe(true);
  },
};

async function replay(conn: TrackerConnection, record: TrackerRecord): Promise<void> {
  const isAdmin = /^![^ \r\n]/.test(record.request);
  conn.send(record.request);
  if (record.reply === '') return; // an empty line gets no reply; the next record proves it
  const expected = OUR_REPLY[record.id] ?? record.reply;
  if (isAdmin) {
    const reply = await conn.readUntil(/(?:^|\n)\.\r\n/);
    const shape = SHAPES[record.id];
    if (shape) shape(reply);
    else expect(reply).toBe(expected);
    return;
  }
  const lineCount = record.request.split('\n').length - 1;
  const replies: string[] = [];
  for (let i = 0; i < lineCount; i++) replies.push(await conn.readLine());
  if (lineCount > 1) expect(replies.join('')).toBe(expected);
  else if (expected.startsWith('OK ')) expect(okPairs(replies[0]!)).toEqual(record.reply_args);
  else expect(replies[0]).toBe(expected);
}

describe('transcript replay against a mogile tracker', () => {
  let tracker: SpawnedTracker;
  let conn: TrackerConnection;
  let watchConn: TrackerConnection;

  beforeAll(async () => {
    tracker = await spawnTracker();
    conn = await TrackerConnection.open(tracker.port);
    watchConn = await TrackerConnection.open(tracker.port);
  });
  afterAll(async () => {
    conn?.close();
    watchConn?.close();
    await tracker?.stop();
  });

  for (const record of records) {
    it(`${record.id}: ${record.note}`, async () => {
      await replay(FRESH_CONNECTION.has(record.id) ? watchConn : conn, record);
    });
  }
});
