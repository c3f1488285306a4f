import type { DbRequestScope } from '../meta/meta-gate.js';

/**
 * The cancellation of one read request: it is abandoned when its deadline passes or its
 * client goes away. The AbortSignal is only made when something asks for it (a command
 * that waits on a node, a database call that must wait for a slot): making one and
 * listening to the connection's cost about a third of a `get_paths` that needs neither.
 * Database calls that run while the request waits (PostgreSQL, MySQL) race `abandoned`,
 * which is cheaper still.
 */
export class RequestDeadline implements DbRequestScope {
  readonly deadlineMs: number;
  readonly #connection: AbortSignal;
  #controller: AbortController | undefined;
  #expiry: { readonly reason: unknown } | undefined;
  #abandoned:
    | { readonly promise: Promise<never>; readonly reject: (reason: unknown) => void }
    | undefined;
  readonly #onClientGone = () => this.#controller?.abort(this.#connection.reason);

  constructor(deadlineMs: number, connection: AbortSignal) {
    this.deadlineMs = deadlineMs;
    this.#connection = connection;
  }

  get aborted(): boolean {
    return this.#expiry !== undefined || this.#connection.aborted;
  }

  get signal(): AbortSignal {
    if (!this.#controller) {
      const controller = new AbortController();
      this.#controller = controller;
      if (this.#expiry) controller.abort(this.#expiry.reason);
      else if (this.#connection.aborted) controller.abort(this.#connection.reason);
      else this.#connection.addEventListener('abort', this.#onClientGone, { once: true });
    }
    return this.#controller.signal;
  }

  /**
   * Rejects when the deadline passes. A client that left is seen here only if it left
   * before this was first asked for; later, the request's next call or its deadline stops
   * it (one listener per request on the connection would cost what this saves).
   */
  get abandoned(): Promise<never> {
    if (!this.#abandoned) {
      let reject!: (reason: unknown) => void;
      const promise = new Promise<never>((_, rejectPromise) => {
        reject = rejectPromise;
      });
      // Nobody may be racing it when it rejects.
      promise.catch(() => undefined);
      this.#abandoned = { promise, reject };
      if (this.#expiry) reject(this.#expiry.reason);
      else if (this.#connection.aborted) reject(this.#connection.reason);
    }
    return this.#abandoned.promise;
  }

  /** The deadline passed: the request is abandoned with `reason`. */
  expire(reason: unknown): void {
    this.#expiry ??= { reason };
    this.#controller?.abort(reason);
    this.#abandoned?.reject(reason);
  }

  /** The request is over: stop listening to the connection. */
  dispose(): void {
    if (this.#controller) this.#connection.removeEventListener('abort', this.#onClientGone);
  }
}
