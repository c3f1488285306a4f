import { createHash, type Hash } from 'node:crypto';
import type { Agent } from 'node:http';
import type { Readable } from 'node:stream';
import type { Checksum } from '../../client/checksum.js';
import { NODE_MD5_HEADER } from '../../client/storage-upload.js';
import { dumpBody, nodeRequest } from '../../tracker/node-http.js';
import type { FileLocation } from './file-locator.js';
import type { ByteSpan } from './range-header.js';

/** Why a copy was refused: the gateway logs it and tries the next copy. */
export class CopyRejected extends Error {
  readonly mismatch: boolean;

  constructor(message: string, mismatch = false) {
    super(message);
    this.name = 'CopyRejected';
    this.mismatch = mismatch;
  }
}

const DIGEST = { MD5: 'md5', 'SHA-1': 'sha1' } as const;

/** A node that has not answered in this time is skipped for the next copy. */
const NODE_ANSWER_MS = 30_000;
/**
 * Longest pause in a copy's bytes. A slow reader pauses the node's connection too, so
 * this is generous: a transfer cut short is retried by the client, a hung one never ends.
 */
const NODE_SILENCE_MS = 300_000;

export function digestOf(checksum: Checksum): Hash {
  return createHash(DIGEST[checksum.algorithm]);
}

/**
 * Reads a whole copy and checks its length and digest. With `keep` the bytes are returned
 * (small files, served from memory); without, they are dropped (large files, proven good
 * before they are read again to stream them).
 */
export async function readVerified(
  agent: Agent,
  path: string,
  file: FileLocation,
  keep: boolean,
  signal: AbortSignal,
): Promise<Buffer | undefined> {
  const copy = await openCopy(agent, path, undefined, signal);
  const checksum = file.checksum ?? copy.nodeChecksum;
  const hash = checksum ? digestOf(checksum) : undefined;
  const chunks: Buffer[] = [];
  let seen = 0;
  for await (const chunk of copy.body) {
    seen += (chunk as Buffer).length;
    hash?.update(chunk as Buffer);
    if (keep) chunks.push(chunk as Buffer);
  }
  if (seen !== file.lengthBytes) {
    throw new CopyRejected(`${path} has ${seen} bytes, the tracker recorded ${file.lengthBytes}`);
  }
  if (checksum && hash) {
    const actual = hash.digest('hex');
    if (actual !== checksum.hex) {
      throw new CopyRejected(`${path}: expected ${checksum.hex}, read ${actual}`, true);
    }
  }
  return keep ? Buffer.concat(chunks) : undefined;
}

export interface OpenedCopy {
  readonly body: Readable;
  /** The digest the node keeps for the copy, used when the tracker has none. */
  readonly nodeChecksum: Checksum | undefined;
}

/** The copy's bytes (all, or one span) as a stream; rejects on any unexpected status. */
export async function openCopy(
  agent: Agent,
  path: string,
  span: ByteSpan | undefined,
  signal: AbortSignal,
): Promise<OpenedCopy> {
  const response = await nodeRequest(path, {
    agent,
    headersTimeoutMs: NODE_ANSWER_MS,
    bodyIdleMs: NODE_SILENCE_MS,
    signal,
    ...(span && { headers: { range: `bytes=${span.start}-${span.end}` } }),
  });
  const wanted = span ? 206 : 200;
  if (response.statusCode !== wanted) {
    dumpBody(response.body).catch(() => undefined);
    throw new CopyRejected(`HTTP ${response.statusCode} from ${path}`);
  }
  const md5 = response.headers[NODE_MD5_HEADER];
  const nodeChecksum =
    typeof md5 === 'string' && /^[0-9a-f]{32}$/i.test(md5)
      ? { algorithm: 'MD5' as const, hex: md5.toLowerCase() }
      : undefined;
  return { body: response.body, nodeChecksum };
}
