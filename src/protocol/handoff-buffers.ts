/** Bytes go to a hashing thread in buffers of this size. */
export const HANDOFF_BYTES = 1024 * 1024;
/**
 * Spare buffers kept for reuse. Senders let at most 8 MiB wait for their hashing thread,
 * so a dozen serve a stream at full speed without allocating.
 */
const MAX_SPARE = 12;

/**
 * Buffers that carry bytes to a worker thread and come back to be filled again. A fresh
 * buffer per piece would be transferred to the worker and freed only when its garbage
 * collector gets round to it: a long stream then holds tens of MB it no longer needs.
 */
export class HandoffBuffers {
  readonly #spare: ArrayBuffer[] = [];

  /** A spare buffer, or a new one; its old bytes are overwritten before they count. */
  take(): ArrayBuffer {
    return this.#spare.pop() ?? new ArrayBuffer(HANDOFF_BYTES);
  }

  /** A buffer the worker has finished with. */
  give(buffer: ArrayBuffer): void {
    if (buffer.byteLength === HANDOFF_BYTES && this.#spare.length < MAX_SPARE) {
      this.#spare.push(buffer);
    }
  }
}

/**
 * Copies one stream's bytes into whole hand-off buffers and passes each on as it fills
 * (`send` transfers it), so the worker gets few large messages. The caller's bytes may be
 * reused as soon as `add` returns.
 */
export class HandoffPacker {
  readonly #buffers: HandoffBuffers;
  readonly #send: (buffer: ArrayBuffer, bytes: number) => void;
  #current: Uint8Array | undefined;
  #filled = 0;

  constructor(buffers: HandoffBuffers, send: (buffer: ArrayBuffer, bytes: number) => void) {
    this.#buffers = buffers;
    this.#send = send;
  }

  add(bytes: Uint8Array): void {
    for (let offset = 0; offset < bytes.length; ) {
      this.#current ??= new Uint8Array(this.#buffers.take());
      const take = Math.min(bytes.length - offset, this.#current.length - this.#filled);
      this.#current.set(bytes.subarray(offset, offset + take), this.#filled);
      this.#filled += take;
      offset += take;
      if (this.#filled === this.#current.length) this.flush();
    }
  }

  /** Passes on the bytes of a partly filled buffer (before the stream's end). */
  flush(): void {
    if (!this.#current || this.#filled === 0) return;
    const buffer = this.#current.buffer as ArrayBuffer;
    const bytes = this.#filled;
    this.#current = undefined;
    this.#filled = 0;
    this.#send(buffer, bytes);
  }
}
