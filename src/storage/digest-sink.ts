import { createHash, type Hash } from 'node:crypto';
import { writev } from 'node:fs';
import { Writable } from 'node:stream';
import type { FileDigest } from './digest-store.js';

/** Writes are batched up to this much; it bounds the memory one upload can hold. */
const HIGH_WATER_MARK_BYTES = 1024 * 1024;

/**
 * The sink of a PUT: writes the body into an open file at consecutive positions and
 * hashes it (MD5 and SHA-1) on the way. Each batch is handed to the disk first and hashed
 * while the write runs on the thread pool, so hashing overlaps with I/O. Node batches the
 * chunks that arrive during a write into one writev call.
 */
export class DigestFileSink extends Writable {
  readonly #fd: number;
  #position: number;
  #bytesWritten = 0;
  readonly #md5: Hash = createHash('md5');
  readonly #sha1: Hash = createHash('sha1');

  constructor(fd: number, startPosition = 0) {
    super({ highWaterMark: HIGH_WATER_MARK_BYTES, decodeStrings: true });
    this.#fd = fd;
    this.#position = startPosition;
  }

  get bytesWritten(): number {
    return this.#bytesWritten;
  }

  /** Finalises both hashes; call once, after the stream has finished. */
  digest(): { digest: FileDigest; md5Base64: string } {
    const md5 = this.#md5.digest();
    return {
      digest: { md5: md5.toString('hex'), sha1: this.#sha1.digest('hex') },
      md5Base64: md5.toString('base64'),
    };
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

  #writeBatch(buffers: Buffer[], callback: (e?: Error) => void): void {
    let total = 0;
    for (const buffer of buffers) total += buffer.length;
    const position = this.#position;
    this.#position += total;
    writeFully(this.#fd, buffers, position, (error) => {
      if (error) return callback(error);
      this.#bytesWritten += total;
      callback();
    });
    for (const buffer of buffers) {
      this.#md5.update(buffer);
      this.#sha1.update(buffer);
    }
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
