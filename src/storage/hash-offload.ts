import { createHash, type Hash } from 'node:crypto';
import { Worker } from 'node:worker_threads';
import type { FileDigest } from './digest-store.js';

/** The two digests every upload gets; each is computed on its own worker thread. */
export type HashAlgorithm = 'md5' | 'sha1';

export type HashRequest =
  | { readonly op: 'update'; readonly id: number; readonly data: Uint8Array }
  | { readonly op: 'final'; readonly id: number }
  | { readonly op: 'drop'; readonly id: number };

export type HashReply =
  | { readonly op: 'ack'; readonly id: number; readonly bytes: number }
  | { readonly op: 'digest'; readonly id: number; readonly digest: Uint8Array };

export interface BodyDigest {
  readonly digest: FileDigest;
  readonly md5Base64: string;
}

/** Incremental MD5 + SHA-1 of one upload body. */
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
  readonly #sha1: Hash = createHash('sha1');
  readonly backlogBytes = 0;

  update(buffers: readonly Buffer[]): void {
    for (const buffer of buffers) {
      this.#md5.update(buffer);
      this.#sha1.update(buffer);
    }
  }

  whenBacklogAtMost(): Promise<void> {
    return Promise.resolve();
  }

  finish(): Promise<BodyDigest> {
    const md5 = this.#md5.digest();
    return Promise.resolve({
      digest: { md5: md5.toString('hex'), sha1: this.#sha1.digest('hex') },
      md5Base64: md5.toString('base64'),
    });
  }

  abandon(): void {}
}

const ALGORITHMS: readonly HashAlgorithm[] = ['md5', 'sha1'];

interface Session {
  /** Bytes handed to each worker and not yet hashed by it. */
  readonly pending: Record<HashAlgorithm, number>;
  readonly digests: Partial<Record<HashAlgorithm, Buffer>>;
  waiters: Array<{ bytes: number; resolve: () => void }>;
  done?: { resolve: (digest: BodyDigest) => void; reject: (error: Error) => void };
  failed?: Error;
}

function backlogOf(session: Session): number {
  return Math.max(session.pending.md5, session.pending.sha1);
}

/**
 * Hashes large uploads on two worker threads, MD5 on one and SHA-1 on the other, so the
 * event loop that receives the body never stalls on hashing and the two digests run in
 * parallel.
 */
export class HashOffload {
  readonly #workers = new Map<HashAlgorithm, Worker>();
  readonly #sessions = new Map<number, Session>();
  #nextId = 1;

  open(): BodyHasher {
    const workers = ALGORITHMS.map((algorithm) => this.#ensureWorker(algorithm));
    const id = this.#nextId++;
    const session: Session = { pending: { md5: 0, sha1: 0 }, digests: {}, waiters: [] };
    this.#sessions.set(id, session);
    const sessions = this.#sessions;
    const post = (message: HashRequest) => {
      for (const worker of workers) worker.postMessage(message);
    };
    return {
      get backlogBytes() {
        return backlogOf(session);
      },
      update(buffers) {
        // Each worker gets its own copy, transferred: the caller's buffers can be reused (or
        // still be written to disk) at once, and each copy is freed as soon as its worker is
        // done with it, so memory stays bounded by the backlog.
        let total = 0;
        for (const buffer of buffers) total += buffer.length;
        for (const worker of workers) {
          const data = new Uint8Array(total);
          let offset = 0;
          for (const buffer of buffers) {
            data.set(buffer, offset);
            offset += buffer.length;
          }
          const message: HashRequest = { op: 'update', id, data };
          worker.postMessage(message, [data.buffer as ArrayBuffer]);
        }
        session.pending.md5 += total;
        session.pending.sha1 += total;
      },
      whenBacklogAtMost(bytes) {
        if (backlogOf(session) <= bytes) return Promise.resolve();
        return new Promise((resolve) => session.waiters.push({ bytes, resolve }));
      },
      finish() {
        if (session.failed) return Promise.reject(session.failed);
        return new Promise((resolve, reject) => {
          session.done = { resolve, reject };
          post({ op: 'final', id });
        });
      },
      abandon() {
        if (sessions.delete(id)) post({ op: 'drop', id });
      },
    };
  }

  async close(): Promise<void> {
    const workers = [...this.#workers.values()];
    this.#workers.clear();
    await Promise.all(workers.map((worker) => worker.terminate()));
  }

  #ensureWorker(algorithm: HashAlgorithm): Worker {
    const existing = this.#workers.get(algorithm);
    if (existing) return existing;
    const worker = new Worker(new URL('./hash-worker.js', import.meta.url), {
      workerData: { algorithm },
    });
    worker.unref();
    worker.on('message', (reply: HashReply) => this.#onReply(algorithm, reply));
    worker.on('error', (error) => this.#fail(algorithm, worker, error));
    worker.on('exit', () => this.#fail(algorithm, worker, new Error('hash worker exited')));
    this.#workers.set(algorithm, worker);
    return worker;
  }

  #onReply(algorithm: HashAlgorithm, reply: HashReply): void {
    const session = this.#sessions.get(reply.id);
    if (!session) return;
    if (reply.op === 'ack') {
      session.pending[algorithm] -= reply.bytes;
      const backlog = backlogOf(session);
      session.waiters = session.waiters.filter((waiter) => {
        if (backlog > waiter.bytes) return true;
        waiter.resolve();
        return false;
      });
      return;
    }
    session.digests[algorithm] = Buffer.from(reply.digest);
    const { md5, sha1 } = session.digests;
    if (!md5 || !sha1) return;
    this.#sessions.delete(reply.id);
    session.done?.resolve({
      digest: { md5: md5.toString('hex'), sha1: sha1.toString('hex') },
      md5Base64: md5.toString('base64'),
    });
  }

  #fail(algorithm: HashAlgorithm, worker: Worker, error: Error): void {
    if (this.#workers.get(algorithm) !== worker) return;
    // Both workers go: sessions in flight cannot finish without either digest.
    void this.close();
    for (const session of this.#sessions.values()) {
      session.failed = error;
      for (const waiter of session.waiters) waiter.resolve();
      session.done?.reject(error);
    }
    this.#sessions.clear();
  }
}
