import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import type { Dispatcher } from 'undici';
import type { Checksum } from '../../client/checksum.js';
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

/**
 * Reads a copy end to end and checks its length and digest, without keeping the bytes.
 * Used for files too large to hold in memory: the copy is proven good before the first
 * byte goes to the client, then read again to stream it.
 */
export async function checkCopy(
  agent: Dispatcher,
  path: string,
  lengthBytes: number,
  checksum: Checksum | undefined,
  signal: AbortSignal,
): Promise<void> {
  const body = await openCopy(agent, path, undefined, signal);
  const hash = checksum ? createHash(DIGEST[checksum.algorithm]) : undefined;
  let seen = 0;
  for await (const chunk of body) {
    seen += (chunk as Buffer).length;
    hash?.update(chunk as Buffer);
  }
  if (seen !== lengthBytes) {
    throw new CopyRejected(`${path} has ${seen} bytes, the tracker recorded ${lengthBytes}`);
  }
  if (checksum && hash) {
    const actual = hash.digest('hex');
    if (actual !== checksum.hex) {
      throw new CopyRejected(`${path}: expected ${checksum.hex}, read ${actual}`, true);
    }
  }
}

/** The copy's bytes (all of them, or one span) as a stream; rejects on any non-2xx. */
export async function openCopy(
  agent: Dispatcher,
  path: string,
  span: ByteSpan | undefined,
  signal: AbortSignal,
): Promise<Readable> {
  const url = new URL(path);
  const response = await agent.request({
    origin: url.origin,
    path: `${url.pathname}${url.search}`,
    method: 'GET',
    signal,
    ...(span && { headers: { range: `bytes=${span.start}-${span.end}` } }),
  });
  const wanted = span ? 206 : 200;
  if (response.statusCode !== wanted) {
    response.body.dump().catch(() => undefined);
    throw new CopyRejected(`HTTP ${response.statusCode} from ${path}`);
  }
  return response.body;
}

/** A running digest over the bytes passed through, for the second (streaming) read. */
export function digestOf(checksum: Checksum) {
  return createHash(DIGEST[checksum.algorithm]);
}
