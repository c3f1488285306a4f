import type { MetaStore } from './meta-store.js';

/**
 * The store could not be reached in time: every connection is busy and the wait queue is
 * full or the wait ran out, or the database refused a new connection. Retrying later is
 * the right reaction (the tracker answers `ERR db_busy`).
 */
export class MetaBusyError extends Error {
  readonly reason: 'queue_full' | 'wait_timeout' | 'refused';

  constructor(reason: MetaBusyError['reason'], message: string, cause?: unknown) {
    super(message, cause === undefined ? undefined : { cause });
    this.name = 'MetaBusyError';
    this.reason = reason;
  }
}

/** The connection broke while a statement ran (the database restarted, the network cut). */
export class MetaConnectionError extends Error {
  constructor(cause: unknown) {
    super(`database connection lost: ${(cause as Error)?.message ?? String(cause)}`, { cause });
    this.name = 'MetaConnectionError';
  }
}

export interface MetaGateOptions {
  /** Statements that may run at once: the size of the driver's pool. */
  readonly size: number;
  /** Calls that may wait for a slot; one more is refused at once. */
  readonly queueLimit: number;
  /** The longest a call waits for a slot, unless its request's deadline comes first. */
  readonly queueTimeoutMs: number;
  /**
   * Slots that calls made outside any request (monitor, workers) may hold together, so
   * client requests always find room (architecture.md §5). Default: half, at least 1.
   */
  readonly backgroundSlots?: number;
  /**
   * Whether a request that is abandoned stops awaiting the statement it has running
   * (default true). Off for SQLite, whose statements run in-process and finish at once:
   * there the request stops at its next statement instead, and each call saves a listener.
   */
  readonly abandonRunning?: boolean;
}

/** The request a store call is made for: its deadline and its cancellation. */
export interface DbRequestScope {
  /** performance.now() time after which waiting for a slot is pointless. */
  readonly deadlineMs: number;
  /** Aborting it abandons the caller's waits and running calls (their slots stay held). */
  readonly signal?: AbortSignal;
  /** Whether `signal` is aborted, told without making it where it is made on demand. */
  readonly aborted?: boolean;
  /**
   * Where given, rejects when the request is abandoned; a running call races it instead
   * of listening to `signal` (cheaper where the signal is made on demand).
   */
  readonly abandoned?: Promise<never>;
}

function abandoned(scope: DbRequestScope | undefined): boolean {
  return scope !== undefined && (scope.aborted ?? scope.signal?.aborted ?? false);
}

interface Waiter {
  readonly background: boolean;
  readonly grant: () => void;
}

/**
 * A counting semaphore in front of the driver's pool. The pool itself would queue without
 * bound; the gate bounds the queue and the wait, so an overloaded or stalled database
 * turns into fast errors instead of piled-up requests.
 */
export class MetaGate {
  readonly #options: Required<MetaGateOptions>;
  #inUse = 0;
  #backgroundInUse = 0;
  readonly #waiters: Waiter[] = [];

  constructor(options: MetaGateOptions) {
    const backgroundSlots = options.backgroundSlots ?? Math.max(1, Math.floor(options.size / 2));
    this.#options = Object.freeze({
      ...options,
      backgroundSlots,
      abandonRunning: options.abandonRunning ?? true,
    });
  }

  get inUse(): number {
    return this.#inUse;
  }

  get waiting(): number {
    return this.#waiters.length;
  }

  /**
   * Runs `call` once a slot is free; the slot is held until `call` really settles. A call
   * without a request `scope` is background work (monitor, workers).
   */
  run<T>(call: () => Promise<T>, scope?: DbRequestScope): Promise<T> {
    const background = scope === undefined;
    if (abandoned(scope)) return Promise.reject(scope?.signal?.reason);
    // Waiters are only ever background calls over their share or calls that found every
    // slot taken, so whoever can start now passes nobody who could.
    if (this.#canStart(background)) {
      this.#take(background);
      return this.#start(call, background, scope);
    }
    return this.#wait(background, scope).then(() => {
      if (abandoned(scope)) {
        // Abandoned while the slot was being granted: the statement never starts.
        this.#release(background);
        throw scope?.signal?.reason;
      }
      return this.#start(call, background, scope);
    });
  }

  /** Runs `call` in the slot just taken, which is held until the call really settles. */
  #start<T>(call: () => Promise<T>, background: boolean, scope?: DbRequestScope): Promise<T> {
    let running: Promise<T>;
    try {
      running = call();
    } catch (error) {
      this.#release(background);
      return Promise.reject(error);
    }
    const release = () => this.#release(background);
    running.then(release, release);
    if (!this.#options.abandonRunning || !scope) return running;
    if (scope.abandoned) return Promise.race([running, scope.abandoned]);
    const signal = scope.signal;
    if (!signal) return running;
    // An abandoned request stops awaiting its statement; the statement keeps its slot
    // until the driver returns, so the gate never hands out a connection that is busy.
    return new Promise<T>((resolve, reject) => {
      const onAbort = () => reject(signal.reason);
      signal.addEventListener('abort', onAbort, { once: true });
      running.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
    });
  }

  #canStart(background: boolean): boolean {
    if (this.#inUse >= this.#options.size) return false;
    return !background || this.#backgroundInUse < this.#options.backgroundSlots;
  }

  #take(background: boolean): void {
    this.#inUse += 1;
    if (background) this.#backgroundInUse += 1;
  }

  /** Queues for a slot; resolves once one is granted (and taken). */
  #wait(background: boolean, scope: DbRequestScope | undefined): Promise<void> {
    if (this.#waiters.length >= this.#options.queueLimit) {
      return Promise.reject(
        new MetaBusyError('queue_full', `database busy: ${this.#waiters.length} calls waiting`),
      );
    }
    const untilDeadline = scope ? scope.deadlineMs - performance.now() : Number.POSITIVE_INFINITY;
    // Whole milliseconds, so that waits share Node's timer lists (one per distinct delay).
    const waitMs = Math.max(0, Math.ceil(Math.min(this.#options.queueTimeoutMs, untilDeadline)));
    return new Promise<void>((resolve, reject) => {
      const waiter: Waiter = {
        background,
        grant: () => {
          cleanup();
          this.#take(background);
          resolve();
        },
      };
      const leave = (error: unknown) => {
        cleanup();
        this.#waiters.splice(this.#waiters.indexOf(waiter), 1);
        reject(error);
      };
      const timer = setTimeout(
        () =>
          leave(
            new MetaBusyError('wait_timeout', `database busy: no connection within ${waitMs} ms`),
          ),
        waitMs,
      );
      const onAbort = () => leave(scope?.signal?.reason);
      scope?.signal?.addEventListener('abort', onAbort, { once: true });
      const cleanup = () => {
        clearTimeout(timer);
        scope?.signal?.removeEventListener('abort', onAbort);
      };
      this.#waiters.push(waiter);
    });
  }

  #release(background: boolean): void {
    this.#inUse -= 1;
    if (background) this.#backgroundInUse -= 1;
    // Hand slots out in arrival order, skipping background calls over their share.
    for (let i = 0; i < this.#waiters.length && this.#inUse < this.#options.size; ) {
      const waiter = this.#waiters[i]!;
      if (!this.#canStart(waiter.background)) {
        i += 1;
        continue;
      }
      this.#waiters.splice(i, 1);
      waiter.grant();
    }
  }
}

/**
 * The store with every call going through `gate`, on behalf of the request `scope` (none:
 * background work); driver errors that mean "no usable connection" become MetaBusyError
 * or MetaConnectionError so callers can answer fast. The scope is passed explicitly, not
 * through AsyncLocalStorage, whose promise hooks slowed every promise of the process.
 */
export function gateMetaStore(store: MetaStore, gate: MetaGate, scope?: DbRequestScope): MetaStore {
  return new Proxy(store, {
    get(target, property) {
      // The store itself as receiver: its getters read #private fields (e.g. `engine`).
      const value = Reflect.get(target, property, target);
      if (typeof value !== 'function') return value;
      // Bound to the store: its methods read #private fields, which the proxy has none of.
      if (property === 'close') return value.bind(target);
      return (...args: unknown[]) =>
        gate
          .run(() => (value as (...a: unknown[]) => Promise<unknown>).apply(target, args), scope)
          .catch((error: unknown) => {
            throw classifyDbError(error);
          });
    },
  });
}

/** PostgreSQL SQLSTATEs and MySQL errnos that mean the server refused a new connection. */
const REFUSED_PG = new Set(['53300', '57P03', '53400']);
const REFUSED_MYSQL = new Set([1040, 1203, 1226]);
const REFUSED_NODE = new Set(['ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH', 'ER_CON_COUNT_ERROR']);
const LOST_CODES = new Set([
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'PROTOCOL_CONNECTION_LOST',
  'PROTOCOL_SEQUENCE_TIMEOUT',
  '57P01',
  '57P02',
]);

export function classifyDbError(error: unknown): unknown {
  if (error instanceof MetaBusyError || error instanceof MetaConnectionError) return error;
  const { code, errno, message } = (error ?? {}) as {
    code?: unknown;
    errno?: unknown;
    message?: unknown;
  };
  const text = typeof message === 'string' ? message : '';
  if (
    (typeof code === 'string' && (REFUSED_PG.has(code) || REFUSED_NODE.has(code))) ||
    (typeof errno === 'number' && REFUSED_MYSQL.has(errno)) ||
    /timeout exceeded when trying to connect|connection timeout/i.test(text)
  ) {
    return new MetaBusyError('refused', `database refused a connection: ${text}`, error);
  }
  if (
    (typeof code === 'string' && (LOST_CODES.has(code) || code.startsWith('08'))) ||
    /Connection terminated|connection is closed|Can't add new command when connection/i.test(text)
  ) {
    return new MetaConnectionError(error);
  }
  return error;
}
