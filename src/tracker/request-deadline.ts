import type { DbRequestScope } from '../meta/meta-gate.js';

/**
 * The cancellation of one read request: it is abandoned when its deadline passes or its
 * client goes away. The AbortSignal is only made when something asks for it (a command
 * that waits on a node, a database call that must wait for a slot): making one and
 * listening to the connection's cost about a third of a `get_paths` that needs neither.
 */
export class RequestDeadline implements DbRequestScope {
  readonly deadlineMs: number;
  readonly #connection: AbortSignal;
  #controller: AbortController | undefined;
  #expiry: { readonly reason: unknown } | undefined;
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

  /** The deadline passed: the request is abandoned with `reason`. */
  expire(reason: unknown): void {
    this.#expiry ??= { reason };
    this.#controller?.abort(reason);
  }

  /** The request is over: stop listening to the connection. */
  dispose(): void {
    if (this.#controller) this.#connection.removeEventListener('abort', this.#onClientGone);
  }
}
