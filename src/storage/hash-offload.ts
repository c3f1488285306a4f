import { createHash, type Hash } from 'node:crypto';
import { Worker } from 'node:worker_threads';
import { HandoffBuffers, HandoffPacker } from '../protocol/handoff-buffers.js';
import type { FileDigest } from './digest-store.js';

/** An update hashes the first `bytes` of `data`, which the worker then sends back. */
export type HashRequest =
  | {
      readonly op: 'update';
      readonly id: number;
      readonly data: ArrayBuffer;
      readonly bytes: number;
    }
  | { readonly op: 'final'; readonly id: number }
  | { readonly op: 'drop'; readonly id: number };

export type HashReply =
  | { readonly op: 'ack'; readonly id: number; readonly bytes: number; readonly data: ArrayBuffer }
  | { readonly op: 'digest'; readonly id: number; readonly md5: Uint8Array };

export interface BodyDigest {
  readonly digest: FileDigest;
  readonly md5Base64: string;
}

/**
 * Incremental MD5 of one upload body, and its SHA-1 where the receiver asks for one (a copy
 * ordered with a SHA-1 to match, a very large body). A SHA-1 wanted later is read from
 * the file (`Want-Digest`, wanted-digest.ts, or the side channel).
 */
export interface BodyHasher {
  /** Hashes these bytes (they may be reused by the caller as soon as this returns). */
  update(buffers: readonly Buffer[]): void;
  /** Bytes handed over but not hashed yet. */
  readonly backlogBytes: number;
  /** Resolves when the backlog is at most `bytes`. */
  whenBacklogAtMost(bytes: number): Promise<void>;
  finish(): Promise<BodyDigest>;
  abandon(): void;
}

/** Hashes on the calling thread: cheapest for small bodies. */
export class InlineHasher implements BodyHasher {
  readonly #md5: Hash = createHash('md5');
  readonly #sha1: Hash | undefined;
  readonly backlogBytes = 0;

  constructor(withSha1: boolean) {
    this.#sha1 = withSha1 ? createHash('sha1') : undefined;
  }

  update(buffers: readonly Buffer[]): void {
    for (const buffer of buffers) {
      this.#md5.update(buffer);
      this.#sha1?.update(buffer);
    }
  }

  whenBacklogAtMost(): Promise<void> {
    return Promise.resolve();
  }

  finish(): Promise<BodyDigest> {
    const md5 = this.#md5.digest();
    return Promise.resolve({
      digest: { md5: md5.toString('hex'), sha1: this.#sha1?.digest('hex') },
      md5Base64: md5.toString('base64'),
    });
  }

  abandon(): void {}
}

interface Session {
  /** Bytes handed to the worker and not yet hashed by it. */
  pending: number;
  waiters: Array<{ bytes: number; resolve: () => void }>;
  sha1?: Buffer | undefined;
  done?: { resolve: (digest: BodyDigest) => void; reject: (error: Error) => void };
  failed?: Error;
}

/**
 * Hashes large uploads with the MD5 on a worker thread, so the event loop that receives the
 * body never waits for it. SHA-1 (about three times cheaper where the CPU has SHA
 * instructions) runs on the calling thread while the worker does MD5: measured on 2 cores,
 * that beat a second worker, which costs one more copy and twice the messages.
 */
export class HashOffload {
  #worker: Worker | undefined;
  readonly #sessions = new Map<number, Session>();
  readonly #handoffs = new HandoffBuffers();
  #nextId = 1;

  open(withSha1: boolean): BodyHasher {
    const worker = this.#ensureWorker();
    const id = this.#nextId++;
    const session: Session = { pending: 0, waiters: [] };
    this.#sessions.set(id, session);
    const sessions = this.#sessions;
    const sha1 = withSha1 ? createHash('sha1') : undefined;
    // One copy, transferred in hand-off buffers that the worker sends back once hashed.
    const packer = new HandoffPacker(this.#handoffs, (data, bytes) => {
      worker.postMessage({ op: 'update', id, data, bytes } satisfies HashRequest, [data]);
      session.pending += bytes;
    });
    return {
      get backlogBytes() {
        return session.pending;
      },
      update(buffers) {
        for (const buffer of buffers) {
          sha1?.update(buffer);
          packer.add(buffer);
        }
      },
      whenBacklogAtMost(bytes) {
        if (session.pending <= bytes) return Promise.resolve();
        return new Promise((resolve) => session.waiters.push({ bytes, resolve }));
      },
      finish() {
        if (session.failed) return Promise.reject(session.failed);
        packer.flush();
        return new Promise((resolve, reject) => {
          session.done = { resolve, reject };
          session.sha1 = sha1?.digest();
          worker.postMessage({ op: 'final', id } satisfies HashRequest);
        });
      },
      abandon() {
        if (sessions.delete(id)) worker.postMessage({ op: 'drop', id } satisfies HashRequest);
      },
    };
  }

  async close(): Promise<void> {
    const worker = this.#worker;
    this.#worker = undefined;
    await worker?.terminate();
  }

  #ensureWorker(): Worker {
    if (this.#worker) return this.#worker;
    const worker = new Worker(new URL('./hash-worker.js', import.meta.url));
    worker.unref();
    worker.on('message', (reply: HashReply) => this.#onReply(reply));
    worker.on('error', (error) => this.#fail(worker, error));
    worker.on('exit', () => this.#fail(worker, new Error('hash worker exited')));
    this.#worker = worker;
    return worker;
  }

  #onReply(reply: HashReply): void {
    if (reply.op === 'ack') this.#handoffs.give(reply.data);
    const session = this.#sessions.get(reply.id);
    if (!session) return;
    if (reply.op === 'ack') {
      session.pending -= reply.bytes;
      session.waiters = session.waiters.filter((waiter) => {
        if (session.pending > waiter.bytes) return true;
        waiter.resolve();
        return false;
      });
      return;
    }
    this.#sessions.delete(reply.id);
    const md5 = Buffer.from(reply.md5);
    session.done?.resolve({
      digest: { md5: md5.toString('hex'), sha1: session.sha1?.toString('hex') },
      md5Base64: md5.toString('base64'),
    });
  }

  #fail(worker: Worker, error: Error): void {
    if (this.#worker !== worker) return;
    // Sessions in flight cannot finish without their MD5.
    void this.close();
    for (const session of this.#sessions.values()) {
      session.failed = error;
      for (const waiter of session.waiters) waiter.resolve();
      session.done?.reject(error);
    }
    this.#sessions.clear();
  }
}
