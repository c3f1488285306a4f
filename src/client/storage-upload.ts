import { Readable } from 'node:stream';
import type { Dispatcher } from 'undici';
import { MogileClientError } from './errors.js';
import type { UploadSource } from './upload-source.js';

/** One place `create_open` offered for the upload. */
export interface Destination {
  readonly devid: number;
  readonly path: string;
}

export interface UploadResult {
  readonly destination: Destination;
  readonly sizeBytes: number;
  readonly md5Hex: string;
}

/**
 * PUTs the body to the first destination that takes it. A failure moves on to the next
 * destination when the source can be sent again (buffers, files) or when no byte of a
 * stream has been read yet; otherwise it is final.
 */
export async function uploadToFirstAccepting(
  dispatcher: Dispatcher,
  destinations: readonly Destination[],
  source: UploadSource,
  signal: AbortSignal | undefined,
): Promise<UploadResult> {
  const failures: string[] = [];
  for (const destination of destinations) {
    const attempt = source.attempt();
    try {
      const nodeMd5 = await putOnce(
        dispatcher,
        destination.path,
        attempt.body,
        source.sizeBytes,
        signal,
      );
      const { sizeBytes, md5Hex } = await attempt.result();
      // Our storage node reports the MD5 of what it stored; other nodes say nothing.
      if (nodeMd5 !== undefined && nodeMd5.toLowerCase() !== md5Hex) {
        throw new MogileClientError(
          'ECHECKSUM_MISMATCH',
          `storage node stored MD5 ${nodeMd5} for ${destination.path}, but MD5 ${md5Hex} was sent`,
          { target: destination.path },
        );
      }
      return { destination, sizeBytes, md5Hex };
    } catch (error) {
      if (signal?.aborted) throw aborted(signal);
      const failure =
        error instanceof MogileClientError ? error : storageError(destination.path, error);
      failures.push(failure.message);
      if (!source.replayable && attempt.started()) throw failure;
    }
  }
  throw new MogileClientError(
    'ESTORAGE',
    `unable to write to any allocated storage node: ${failures.join('; ')}`,
  );
}

async function putOnce(
  dispatcher: Dispatcher,
  url: string,
  body: Uint8Array | AsyncIterable<Uint8Array>,
  sizeBytes: number | undefined,
  signal: AbortSignal | undefined,
): Promise<string | undefined> {
  const { origin, pathname } = parseStorageUrl(url);
  const headers: Record<string, string> = {};
  if (sizeBytes !== undefined) headers['content-length'] = String(sizeBytes);
  const response = await dispatcher.request({
    origin,
    path: pathname,
    method: 'PUT',
    headers,
    // Readable.from pulls from the iterable only when undici starts writing the body.
    body: body instanceof Uint8Array ? body : Readable.from(body, { objectMode: false }),
    signal,
  });
  const text = await response.body.text();
  if (response.statusCode < 200 || response.statusCode > 299) {
    throw new MogileClientError(
      'ESTORAGE',
      `HTTP response ${response.statusCode} from upload of ${url}: ${text.slice(0, 200)}`,
      { target: url },
    );
  }
  const md5 = response.headers[NODE_MD5_HEADER];
  return typeof md5 === 'string' ? md5 : undefined;
}

/** Our storage node's digest headers (src/storage, get-handler.ts): lower-case in undici. */
export const NODE_MD5_HEADER = 'x-mogile-md5';
export const NODE_SHA1_HEADER = 'x-mogile-sha1';

export function parseStorageUrl(url: string): { origin: string; pathname: string } {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new MogileClientError('EBAD_REPLY', `tracker returned a bad storage URL: ${url}`);
  }
  if (parsed.protocol !== 'http:') {
    throw new MogileClientError('EBAD_REPLY', `only http:// storage URLs are supported: ${url}`);
  }
  return { origin: parsed.origin, pathname: `${parsed.pathname}${parsed.search}` };
}

export function storageError(url: string, error: unknown): MogileClientError {
  const message = error instanceof Error ? error.message : String(error);
  return new MogileClientError('ESTORAGE', `storage node ${url} failed: ${message}`, {
    target: url,
    cause: error,
  });
}

export function aborted(signal: AbortSignal): MogileClientError {
  return new MogileClientError('EABORTED', 'the operation was aborted', { cause: signal.reason });
}
