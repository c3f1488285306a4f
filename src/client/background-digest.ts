import { Worker } from 'node:worker_threads';
import { HandoffBuffers, HandoffPacker } from '../protocol/handoff-buffers.js';
import { type Checksum, createChecksumHash } from './checksum.js';

type DigestMessage =
  | { readonly op: 'open'; readonly id: number; readonly algorithm: 'md5' | 'sha1' }
  | {
      readonly op: 'bytes';
      readonly id: number;
      readonly buffer: ArrayBuffer;
      readonly bytes: number;
    }
  | { readonly op: 'end'; readonly id: number }
  | { readonly op: 'drop'; readonly id: number };

type DigestReply =
  | {
      readonly op: 'hashed';
      readonly id: number;
      readonly bytes: number;
      readonly buffer: ArrayBuffer;
    }
  | { readonly op: 'digest'; readonly id: number; readonly hex: string };

/** The digest of a body that arrives in pieces. */
export interface BodyDigest {
  /**
   * Adds bytes. Returns a promise when hashing lags too far behind: wait for it before
   * reading on, so memory stays bounded whatever the size of the body.
   */
  update(bytes: Uint8Array): Promise<void> | undefined;
  /** The hex digest of everything given to update. */
  hex(): Promise<string>;
  /** Gives up (the body was not read to its end). */
  drop(): void;
}

/** Bodies of at least this size are digested on a worker thread. */
export const BACKGROUND_DIGEST_BYTES = 1024 * 1024;

/** Bytes handed to the worker and not hashed yet, beyond which readers wait. */
const MAX_BACKLOG_BYTES = 8 * 1024 * 1024;

/**
 * A digest for a body of `lengthBytes`: computed on the receiving thread for small bodies,
 * on a worker for large ones, so that reading a large file and checking it overlap instead
 * of taking turns (MD5 of 64 MiB takes over 100 ms on a typical core).
 */
export function bodyDigest(
  algorithm: Checksum['algorithm'],
  lengthBytes: number | undefined,
): BodyDigest {
  if (lengthBytes !== undefined && lengthBytes < BACKGROUND_DIGEST_BYTES) {
    const hash = createChecksumHash(algorithm);
    return {
      update: (bytes) => {
        hash.update(bytes);
        return undefined;
      },
      hex: () => Promise.resolve(hash.digest('hex')),
      drop: () => undefined,
    };
  }
  shared ??= new DigestThread();
  return shared.open(algorithm === 'MD5' ? 'md5' : 'sha1');
}

let shared: DigestThread | undefined;

interface Session {
  /** Bytes handed over and not hashed yet. */
  backlog: number;
  /** The reader waiting for the backlog to go down. */
  resume?: (() => void) | undefined;
  /** The caller waiting for the digest. */
  done?: { readonly resolve: (hex: string) => void; readonly reject: (e: Error) => void };
}

/**
 * The worker's code, one digest per session, fed in order; each piece is acknowledged so
 * the reader can bound what is in flight. Inline rather than a file of its own: the client
 * is a library, and an inline worker runs the same from a build, a bundle or sources
 * loaded through a TypeScript loader.
 */
const DIGEST_THREAD_SOURCE = `
const { createHash } = require('node:crypto');
const { parentPort } = require('node:worker_threads');
const digests = new Map();
parentPort.on('message', (message) => {
  switch (message.op) {
    case 'open':
      digests.set(message.id, createHash(message.algorithm));
      return;
    case 'bytes': {
      digests.get(message.id)?.update(new Uint8Array(message.buffer, 0, message.bytes));
      const reply = { op: 'hashed', id: message.id, bytes: message.bytes, buffer: message.buffer };
      parentPort.postMessage(reply, [message.buffer]);
      return;
    }
    case 'end': {
      const hex = digests.get(message.id)?.digest('hex') ?? '';
      digests.delete(message.id);
      parentPort.postMessage({ op: 'digest', id: message.id, hex });
      return;
    }
    case 'drop':
      digests.delete(message.id);
  }
});
`;

/** One worker shared by every large download of the process. */
class DigestThread {
  #worker: Worker | undefined;
  readonly #sessions = new Map<number, Session>();
  readonly #handoffs = new HandoffBuffers();
  #nextId = 1;
  /** Callers waiting on the worker (a backlog or a digest); while any do, it is referenced. */
  #waiters = 0;

  open(algorithm: 'md5' | 'sha1'): BodyDigest {
    const worker = this.#ensureWorker();
    const id = this.#nextId++;
    const session: Session = { backlog: 0 };
    this.#sessions.set(id, session);
    worker.postMessage({ op: 'open', id, algorithm } satisfies DigestMessage);
    // A copy (the caller keeps its bytes), transferred in hand-off buffers the worker
    // sends back once hashed.
    const packer = new HandoffPacker(this.#handoffs, (buffer, bytes) => {
      session.backlog += bytes;
      worker.postMessage({ op: 'bytes', id, buffer, bytes } satisfies DigestMessage, [buffer]);
    });
    return {
      update: (bytes) => {
        packer.add(bytes);
        if (session.backlog <= MAX_BACKLOG_BYTES) return undefined;
        return this.#wait(new Promise<void>((resolve) => (session.resume = resolve)));
      },
      hex: () =>
        this.#wait(
          new Promise<string>((resolve, reject) => {
            session.done = { resolve, reject };
            packer.flush();
            worker.postMessage({ op: 'end', id } satisfies DigestMessage);
          }),
        ),
      drop: () => {
        if (this.#sessions.delete(id))
          worker.postMessage({ op: 'drop', id } satisfies DigestMessage);
      },
    };
  }

  #ensureWorker(): Worker {
    if (this.#worker) return this.#worker;
    const worker = new Worker(DIGEST_THREAD_SOURCE, { eval: true });
    // Never keeps a process alive by itself; #wait references it while someone waits.
    worker.unref();
    worker.on('message', (reply: DigestReply) => this.#onReply(reply));
    const fail = (error: Error) => {
      if (this.#worker !== worker) return;
      this.#worker = undefined;
      for (const session of this.#sessions.values()) {
        session.resume?.();
        session.done?.reject(error);
      }
      this.#sessions.clear();
    };
    worker.on('error', fail);
    worker.on('exit', () => fail(new Error('digest thread exited')));
    this.#worker = worker;
    return worker;
  }

  #onReply(reply: DigestReply): void {
    if (reply.op === 'hashed') this.#handoffs.give(reply.buffer);
    const session = this.#sessions.get(reply.id);
    if (!session) return;
    if (reply.op === 'hashed') {
      session.backlog -= reply.bytes;
      if (session.resume && session.backlog <= MAX_BACKLOG_BYTES / 2) {
        session.resume();
        session.resume = undefined;
      }
      return;
    }
    this.#sessions.delete(reply.id);
    session.done?.resolve(reply.hex);
  }

  /** Keeps the worker referenced while `promise` is pending: a waiting caller must not exit. */
  async #wait<T>(promise: Promise<T>): Promise<T> {
    if (this.#waiters++ === 0) this.#worker?.ref();
    try {
      return await promise;
    } finally {
      if (--this.#waiters === 0) this.#worker?.unref();
    }
  }
}
