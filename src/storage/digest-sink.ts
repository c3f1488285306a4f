import { writev } from 'node:fs';
import { Writable } from 'node:stream';
import type { BodyDigest, BodyHasher } from './hash-offload.js';

/** Writes are batched up to this much; it bounds the memory one upload can hold. */
const HIGH_WATER_MARK_BYTES = 1024 * 1024;

/** Hashing may lag the disk by this much before the sink stops taking data. */
const MAX_HASH_BACKLOG_BYTES = 8 * 1024 * 1024;

/**
 * The sink of a PUT: writes the body into an open file at consecutive positions and
 * hashes it (MD5 and SHA-1) on the way. Each batch is handed to the disk first and then
 * to the hasher, so hashing overlaps with I/O; Node batches the chunks that arrive during a
 * write into one writev call. Backpressure covers both the disk and the hasher.
 */
export class DigestFileSink extends Writable {
  readonly #fd: number;
  readonly #hasher: BodyHasher;
  #position: number;
  #bytesWritten = 0;

  constructor(fd: number, hasher: BodyHasher, startPosition = 0) {
    super({ highWaterMark: HIGH_WATER_MARK_BYTES, decodeStrings: true });
    this.#fd = fd;
    this.#hasher = hasher;
    this.#position = startPosition;
  }

  get bytesWritten(): number {
    return this.#bytesWritten;
  }

  /** The digests of everything written; call once, after the stream has finished. */
  digest(): Promise<BodyDigest> {
    return this.#hasher.finish();
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (e?: Error) => void): void {
    this.#writeBatch([chunk], callback);
  }

  override _writev(
    chunks: Array<{ chunk: Buffer; encoding: BufferEncoding }>,
    callback: (e?: Error) => void,
  ): void {
    this.#writeBatch(
      chunks.map((entry) => entry.chunk),
      callback,
    );
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    if (error) this.#hasher.abandon();
    callback(error);
  }

  #writeBatch(buffers: Buffer[], callback: (e?: Error) => void): void {
    let total = 0;
    for (const buffer of buffers) total += buffer.length;
    const position = this.#position;
    this.#position += total;
    writeFully(this.#fd, buffers, position, (error) => {
      if (error) return callback(error);
      this.#bytesWritten += total;
      if (this.#hasher.backlogBytes <= MAX_HASH_BACKLOG_BYTES) return callback();
      this.#hasher.whenBacklogAtMost(MAX_HASH_BACKLOG_BYTES / 2).then(() => callback());
    });
    this.#hasher.update(buffers);
  }
}
/** writev until every byte is on disk (regular files rarely write short, but may). */
function writeFully(
  fd: number,
  buffers: Buffer[],
  position: number,
  callback: (error: NodeJS.ErrnoException | null) => void,
): void {
  writev(fd, buffers, position, (error, written) => {
    if (error) return callback(error);
    if (written === 0)
      return callback(Object.assign(new Error('write made no progress'), { code: 'EIO' }));
    let remaining = written;
    let index = 0;
    while (index < buffers.length && remaining >= buffers[index]!.length) {
      remaining -= buffers[index]!.length;
      index++;
    }
    if (index === buffers.length) return callback(null);
    const rest = [buffers[index]!.subarray(remaining), ...buffers.slice(index + 1)];
    writeFully(fd, rest, position + written, callback);
  });
}
