import {
  PassThrough,
  pipeline,
  type Readable,
  Transform,
  type TransformCallback,
} from 'node:stream';
import type { Dispatcher } from 'undici';
import { type BodyDigest, bodyDigest } from './background-digest.js';
import { type Checksum, formatChecksum } from './checksum.js';
import { publishChecksumMismatch } from './diagnostics.js';
import { MogileClientError } from './errors.js';
import {
  aborted,
  NODE_MD5_HEADER,
  NODE_SHA1_HEADER,
  parseStorageUrl,
  storageError,
} from './storage-upload.js';

/** What the tracker told us about the file, to check each copy against. */
export interface ExpectedFile {
  readonly domain: string;
  readonly key: string;
  readonly lengthBytes: number | undefined;
  /** From `file_info`; when absent, the node's own digest header is used. */
  readonly checksum: Checksum | undefined;
}

export interface DownloadOptions {
  readonly signal?: AbortSignal | undefined;
  /** Files up to this size are read whole and verified before the stream starts. */
  readonly verifyBeforeStreamBytes: number;
}

/**
 * Reads the first copy that is whole and matches its checksum, trying the paths in order.
 * Any failure before bytes reach the caller moves on to the next path; a mismatch found
 * after that makes the returned stream error (never silently wrong bytes).
 */
export async function downloadFirstGood(
  dispatcher: Dispatcher,
  paths: readonly string[],
  expected: ExpectedFile,
  mode: 'buffer' | 'stream',
  options: DownloadOptions,
): Promise<Buffer | Readable> {
  const failures: MogileClientError[] = [];
  for (const path of paths) {
    try {
      const copy = await openCopy(dispatcher, path, expected, options.signal);
      const small =
        copy.lengthBytes !== undefined && copy.lengthBytes <= options.verifyBeforeStreamBytes;
      if (mode === 'buffer' || small) {
        const bytes = await readAndVerify(copy, expected, path);
        return mode === 'buffer' ? bytes : streamOf(bytes);
      }
      // pipeline, not pipe: a node failing mid-body must error the caller's stream, and a
      // caller that stops reading must release the node's connection.
      const verifier = new VerifyingStream(copy, expected, path);
      return pipeline(copy.body, verifier, () => undefined);
    } catch (error) {
      if (options.signal?.aborted) throw aborted(options.signal);
      failures.push(error instanceof MogileClientError ? error : storageError(path, error));
    }
  }
  if (failures.length === 0) {
    throw new MogileClientError(
      'ENO_PATHS',
      `no readable copy of key ${JSON.stringify(expected.key)} in domain ${JSON.stringify(expected.domain)}`,
    );
  }
  const mismatch = failures.some((failure) => failure.code === 'ECHECKSUM_MISMATCH');
  throw new MogileClientError(
    mismatch ? 'ECHECKSUM_MISMATCH' : 'ESTORAGE',
    `every copy of key ${JSON.stringify(expected.key)} failed: ${failures.map((f) => f.message).join('; ')}`,
    { cause: failures[failures.length - 1] },
  );
}

interface OpenCopy {
  readonly body: Readable;
  readonly lengthBytes: number | undefined;
  /** The digest this copy must have, if anyone knows it. */
  readonly expected: Checksum | undefined;
}

async function openCopy(
  dispatcher: Dispatcher,
  path: string,
  file: ExpectedFile,
  signal: AbortSignal | undefined,
): Promise<OpenCopy> {
  const { origin, pathname } = parseStorageUrl(path);
  const response = await dispatcher.request({ origin, path: pathname, method: 'GET', signal });
  const fail = (code: string, message: string) => {
    // Reads a little of an unwanted body, then drops the connection: never an unhandled error.
    response.body.dump().catch(() => undefined);
    return new MogileClientError(code, message, { target: path });
  };
  if (response.statusCode !== 200) {
    throw fail('ESTORAGE', `HTTP ${response.statusCode} from ${path}`);
  }
  const lengthHeader = response.headers['content-length'];
  const lengthBytes = typeof lengthHeader === 'string' ? Number(lengthHeader) : file.lengthBytes;
  if (file.lengthBytes !== undefined && lengthBytes !== file.lengthBytes) {
    throw fail(
      'ESTORAGE',
      `${path} has ${lengthBytes} bytes, the tracker recorded ${file.lengthBytes}`,
    );
  }
  const nodeMd5 = header(response.headers, NODE_MD5_HEADER);
  const nodeSha1 = header(response.headers, NODE_SHA1_HEADER);
  const nodeDigest = file.checksum?.algorithm === 'SHA-1' ? nodeSha1 : nodeMd5;
  if (file.checksum && nodeDigest && nodeDigest.toLowerCase() !== file.checksum.hex) {
    // The node itself says this copy is not the file the tracker recorded.
    const actual = `${file.checksum.algorithm}:${nodeDigest.toLowerCase()}`;
    reportMismatch(file, path, formatChecksum(file.checksum), actual, false);
    throw fail(
      'ECHECKSUM_MISMATCH',
      `${path}: expected ${formatChecksum(file.checksum)}, node has ${actual}`,
    );
  }
  const expected =
    file.checksum ??
    (nodeMd5 ? { algorithm: 'MD5' as const, hex: nodeMd5.toLowerCase() } : undefined);
  return { body: response.body, lengthBytes, expected };
}

async function readAndVerify(copy: OpenCopy, file: ExpectedFile, path: string): Promise<Buffer> {
  const body = new BodyBuffer(copy.lengthBytes, path);
  const digest = copy.expected ? bodyDigest(copy.expected.algorithm, copy.lengthBytes) : undefined;
  let bytes: Buffer;
  try {
    for await (const chunk of copy.body) {
      body.append(chunk as Buffer);
      await digest?.update(chunk as Buffer);
    }
    bytes = body.complete();
  } catch (error) {
    digest?.drop();
    throw error;
  }
  if (copy.expected && digest) {
    const actual = await digest.hex();
    if (actual !== copy.expected.hex) {
      const want = formatChecksum(copy.expected);
      const got = `${copy.expected.algorithm}:${actual}`;
      reportMismatch(file, path, want, got, false);
      throw new MogileClientError('ECHECKSUM_MISMATCH', `${path}: expected ${want}, read ${got}`, {
        target: path,
      });
    }
  }
  return bytes;
}

/**
 * A body read whole: written in place when its length is known (no second copy and no
 * pile of chunks to join), else joined at the end. Never more or fewer bytes than announced.
 */
class BodyBuffer {
  readonly #path: string;
  readonly #lengthBytes: number | undefined;
  readonly #target: Buffer | undefined;
  readonly #chunks: Buffer[] = [];
  #filled = 0;

  constructor(lengthBytes: number | undefined, path: string) {
    this.#path = path;
    this.#lengthBytes = lengthBytes;
    this.#target = lengthBytes === undefined ? undefined : Buffer.allocUnsafeSlow(lengthBytes);
  }

  append(chunk: Buffer): void {
    if (this.#lengthBytes !== undefined && this.#filled + chunk.length > this.#lengthBytes) {
      throw new MogileClientError(
        'ESTORAGE',
        `${this.#path} sent more than the ${this.#lengthBytes} bytes it announced`,
        { target: this.#path },
      );
    }
    if (this.#target) this.#target.set(chunk, this.#filled);
    else this.#chunks.push(chunk);
    this.#filled += chunk.length;
  }

  complete(): Buffer {
    if (this.#lengthBytes !== undefined && this.#filled !== this.#lengthBytes) {
      throw new MogileClientError(
        'ESTORAGE',
        `${this.#path} ended after ${this.#filled} of ${this.#lengthBytes} bytes`,
        { target: this.#path },
      );
    }
    return this.#target ?? Buffer.concat(this.#chunks);
  }
}

/**
 * Passes bytes through and fails at the end if their digest or length is wrong. A node that
 * fails mid-body errors this stream with ESTORAGE naming the copy, like every other failure.
 */
class VerifyingStream extends Transform {
  readonly #expected: Checksum | undefined;
  /** Until the end of the body: then its digest is awaited, or it is dropped. */
  #digest: BodyDigest | undefined;
  readonly #lengthBytes: number | undefined;
  readonly #file: ExpectedFile;
  readonly #path: string;
  #seenBytes = 0;
  /** The error the node's body failed with, which the pipeline passes on to this stream. */
  #nodeError: unknown;

  constructor(copy: OpenCopy, file: ExpectedFile, path: string) {
    super();
    this.#expected = copy.expected;
    this.#digest = copy.expected
      ? bodyDigest(copy.expected.algorithm, copy.lengthBytes)
      : undefined;
    this.#lengthBytes = copy.lengthBytes;
    this.#file = file;
    this.#path = path;
    copy.body.once('error', (error) => {
      this.#nodeError = error;
    });
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    const caughtUp = this.#digest?.update(chunk);
    this.#seenBytes += chunk.length;
    if (caughtUp) caughtUp.then(() => callback(null, chunk));
    else callback(null, chunk);
  }

  override _flush(callback: TransformCallback): void {
    if (this.#lengthBytes !== undefined && this.#seenBytes !== this.#lengthBytes) {
      callback(
        new MogileClientError(
          'ESTORAGE',
          `${this.#path} ended after ${this.#seenBytes} of ${this.#lengthBytes} bytes`,
          { target: this.#path },
        ),
      );
      return;
    }
    const digest = this.#digest;
    this.#digest = undefined;
    const expected = this.#expected;
    if (!expected || !digest) {
      callback();
      return;
    }
    digest.hex().then((actual) => {
      if (actual === expected.hex) return callback();
      const want = formatChecksum(expected);
      const got = `${expected.algorithm}:${actual}`;
      reportMismatch(this.#file, this.#path, want, got, true);
      callback(
        new MogileClientError(
          'ECHECKSUM_MISMATCH',
          `${this.#path}: expected ${want}, read ${got}; the bytes already delivered are wrong`,
          { target: this.#path },
        ),
      );
    }, callback);
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    // A stream ended early (the caller stopped, the node failed) frees its digest session.
    this.#digest?.drop();
    callback(error !== null && error === this.#nodeError ? storageError(this.#path, error) : error);
  }
}

function reportMismatch(
  file: ExpectedFile,
  path: string,
  expected: string,
  actual: string,
  afterFirstByte: boolean,
): void {
  publishChecksumMismatch({
    domain: file.domain,
    key: file.key,
    path,
    expected,
    actual,
    afterFirstByte,
  });
}

function header(
  headers: Record<string, string | string[] | undefined>,
  name: string,
): string | undefined {
  const value = headers[name];
  return typeof value === 'string' && value !== '' ? value : undefined;
}

function streamOf(bytes: Buffer): Readable {
  const stream = new PassThrough();
  stream.end(bytes);
  return stream;
}
