import { fdatasync, writev } from 'node:fs';
import { Writable } from 'node:stream';
import type { BodyDigest, BodyHasher } from './hash-offload.js';

/** Writes are batched up to this much; it bounds the memory one upload can hold. */
const HIGH_WATER_MARK_BYTES = 1024 * 1024;

/** Hashing may lag the disk by this much before the sink stops taking data. */
const MAX_HASH_BACKLOG_BYTES = 8 * 1024 * 1024;

/**
 * After this many bytes, written data is flushed in the background while the rest arrives,
 * so the fsync that follows the last byte has little left to wait for.
 */
const EARLY_FLUSH_BYTES = 8 * 1024 * 1024;

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
  #unflushedBytes = 0;
  /** The background flush in flight, if any; finish and destroy wait for it. */
  #flushing: Promise<void> | undefined;

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

  override _final(callback: (error?: Error | null) => void): void {
    // The file descriptor is closed after 'finish': no flush may still be using it.
    if (this.#flushing) this.#flushing.then(() => callback());
    else callback();
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    if (error) this.#hasher.abandon();
    if (this.#flushing) this.#flushing.then(() => callback(error));
    else callback(error);
  }

  #flushEarly(written: number): void {
    this.#unflushedBytes += written;
    if (this.#flushing || this.#unflushedBytes < EARLY_FLUSH_BYTES) return;
    this.#unflushedBytes = 0;
    // Best effort: the commit's own fsync is what makes the file durable.
    this.#flushing = new Promise((resolve) => {
      fdatasync(this.#fd, () => {
        this.#flushing = undefined;
        resolve();
      });
    });
  }

  #writeBatch(buffers: Buffer[], callback: (e?: Error) => void): void {
    let total = 0;
    for (const buffer of buffers) total += buffer.length;
    const position = this.#position;
    this.#position += total;
    writeFully(this.#fd, buffers, position, (error) => {
      if (error) return callback(error);
      this.#bytesWritten += total;
      this.#flushEarly(total);
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
