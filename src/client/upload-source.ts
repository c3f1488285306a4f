import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { BACKGROUND_DIGEST_BYTES, bodyDigest } from './background-digest.js';
import { MogileClientError } from './errors.js';

/** What `store()` accepts: bytes, a stream (never buffered whole), or a file path. */
export type StoreSource =
  | Uint8Array
  | Readable
  | AsyncIterable<Uint8Array>
  | { readonly path: string };

/** One attempt's body plus what it learns while being sent. */
export interface UploadBody {
  readonly body: Uint8Array | AsyncIterable<Uint8Array>;
  /** True once any byte was pulled from the source (then it cannot be sent again). */
  started(): boolean;
  /** Bytes sent and their MD5; final once undici has consumed the body. */
  result(): Promise<{ readonly sizeBytes: number; readonly md5Hex: string }>;
}

/**
 * A store source that can hand out one body per upload attempt. Buffers and files can be
 * sent again to the next destination after any failure; a stream only while none of it
 * has been read.
 */
export interface UploadSource {
  /** Known up front for buffers and files, or when the caller says so. */
  readonly sizeBytes: number | undefined;
  readonly replayable: boolean;
  attempt(): UploadBody;
}

export async function openUploadSource(
  source: StoreSource,
  declaredSize: number | undefined,
  onProgress?: (sentBytes: number) => void,
): Promise<UploadSource> {
  if (source instanceof Uint8Array) {
    const md5 = bufferMd5(source);
    return {
      sizeBytes: source.byteLength,
      replayable: true,
      attempt: () => ({
        body: source,
        started: () => true,
        result: async () => ({ sizeBytes: source.byteLength, md5Hex: await md5 }),
      }),
    };
  }
  if (isPathSource(source)) {
    const info = await stat(source.path).catch((error: unknown) => {
      throw new MogileClientError('EINVALID_ARG', `cannot read ${source.path}: ${String(error)}`, {
        cause: error,
      });
    });
    if (!info.isFile()) throw new MogileClientError('EINVALID_ARG', `${source.path} is not a file`);
    return {
      sizeBytes: info.size,
      replayable: true,
      attempt: () => hashingBody(createReadStream(source.path), onProgress),
    };
  }
  if (isAsyncIterable(source)) {
    let used = false;
    return {
      sizeBytes: declaredSize,
      replayable: false,
      attempt: () => {
        if (used) throw new MogileClientError('ESTORAGE', 'the upload stream was already consumed');
        const body = hashingBody(source, onProgress);
        return {
          ...body,
          started: () => {
            used ||= body.started();
            return used;
          },
        };
      },
    };
  }
  throw new MogileClientError(
    'EINVALID_ARG',
    'store: source must be a Buffer/Uint8Array, a Readable, an async iterable or { path }',
  );
}

/** Pieces a large buffer is handed to the digest thread in. */
const DIGEST_PIECE_BYTES = 1024 * 1024;

/**
 * The MD5 of bytes about to be uploaded. A large buffer is digested on the digest thread
 * while it is being sent, instead of before (MD5 of 64 MiB takes over 100 ms); the caller
 * must not change the buffer until the store has finished, as for any upload.
 */
function bufferMd5(bytes: Uint8Array): Promise<string> {
  if (bytes.byteLength < BACKGROUND_DIGEST_BYTES) {
    return Promise.resolve(createHash('md5').update(bytes).digest('hex'));
  }
  const digest = bodyDigest('MD5', bytes.byteLength);
  const hex = (async () => {
    for (let offset = 0; offset < bytes.byteLength; offset += DIGEST_PIECE_BYTES) {
      await digest.update(bytes.subarray(offset, offset + DIGEST_PIECE_BYTES));
    }
    return digest.hex();
  })();
  // Awaited by every attempt's result(); an upload that fails first never asks.
  hex.catch(() => undefined);
  return hex;
}

/** Wraps a source so that its bytes are counted and hashed as undici pulls them. */
function hashingBody(
  source: AsyncIterable<Uint8Array>,
  onProgress?: (sentBytes: number) => void,
): UploadBody {
  const hash = createHash('md5');
  let sizeBytes = 0;
  let started = false;
  let md5Hex: string | undefined;
  async function* body(): AsyncGenerator<Uint8Array> {
    // Marked before the first read: once iteration starts, the source may be consumed.
    started = true;
    for await (const chunk of source) {
      const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
      hash.update(bytes);
      sizeBytes += bytes.byteLength;
      onProgress?.(sizeBytes);
      yield bytes;
    }
  }
  return {
    body: body(),
    started: () => started,
    result: () => {
      md5Hex ??= hash.digest('hex');
      return Promise.resolve({ sizeBytes, md5Hex });
    },
  };
}

function isPathSource(source: unknown): source is { readonly path: string } {
  return (
    typeof source === 'object' &&
    source !== null &&
    !(source instanceof Readable) &&
    typeof (source as { path?: unknown }).path === 'string' &&
    !isAsyncIterable(source)
  );
}

function isAsyncIterable(source: unknown): source is AsyncIterable<Uint8Array> {
  return (
    typeof source === 'object' &&
    source !== null &&
    typeof (source as AsyncIterable<unknown>)[Symbol.asyncIterator] === 'function'
  );
}
