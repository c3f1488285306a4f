import { MogileClientError } from './errors.js';
import { parseTrackerAddress, type TrackerAddress } from './tracker-address.js';
import { type RequestArgs, TrackerConnection } from './tracker-connection.js';

/**
 * Commands that only read, so resending one after its connection failed (possibly after
 * the first tracker executed it) changes nothing. Everything else may have run already
 * when a connection dies mid-request, and is never resent: `create_open` would leak a
 * fid, `delete`/`rename` could act on a key re-created in between, and `create_close`
 * could bind a key twice.
 */
export const IDEMPOTENT_COMMANDS: ReadonlySet<string> = new Set([
  'noop',
  'get_paths',
  'file_info',
  'file_debug',
  'list_keys',
  'list_fids',
  'get_domains',
  'get_hosts',
  'get_devices',
  'server_setting',
  'server_settings',
  'fsck_status',
  'fsck_getlog',
  'rebalance_status',
  'rebalance_test',
]);

export interface TrackerPoolOptions {
  /** `host:port` of every tracker; at least one. */
  readonly trackers: readonly string[];
  readonly connectTimeoutMs: number;
  readonly requestTimeoutMs: number;
  /** How long a tracker that refused a connection is skipped (Perl client: 5 s). */
  readonly deadTrackerRetryMs: number;
  /** Idle connections kept per tracker for reuse (0 = close after every request). */
  readonly maxIdlePerTracker: number;
  /** Idle connections are closed after this long unused. */
  readonly idleTimeoutMs: number;
  /** Shuffle the list once, like the Perl client, so clients spread over trackers. */
  readonly shuffleTrackers?: boolean | undefined;
}

export interface PoolRequestOptions {
  readonly timeoutMs?: number | undefined;
  readonly signal?: AbortSignal | undefined;
  /** Overrides IDEMPOTENT_COMMANDS for this request. */
  readonly idempotent?: boolean | undefined;
}

interface IdleConnection {
  readonly connection: TrackerConnection;
  readonly timer: NodeJS.Timeout;
}

/**
 * Several trackers with failover. A request goes to the current tracker; a tracker that
 * cannot be reached is skipped for a while and the next one is tried. Connection-level
 * failures (timeout, socket error, garbled reply) move on to the next tracker only for
 * idempotent commands. Each connection serves one request at a time; a connection that
 * failed is destroyed by TrackerConnection and never comes back here.
 */
export class TrackerPool {
  readonly #options: TrackerPoolOptions;
  readonly #trackers: readonly TrackerAddress[];
  readonly #deadUntil = new Map<string, number>();
  readonly #idle = new Map<string, IdleConnection[]>();
  #current: number;
  #closed = false;

  constructor(options: TrackerPoolOptions) {
    this.#options = Object.freeze({ ...options, trackers: Object.freeze([...options.trackers]) });
    if (options.trackers.length === 0) {
      throw new MogileClientError('EINVALID_ARG', 'trackers: at least one host:port is required');
    }
    const trackers = options.trackers.map((text) => parseTrackerAddress(text));
    this.#trackers = options.shuffleTrackers === false ? trackers : shuffled(trackers);
    this.#current = 0;
  }

  get trackers(): readonly string[] {
    return this.#trackers.map((tracker) => tracker.label);
  }

  async request(
    command: string,
    args: RequestArgs,
    options: PoolRequestOptions = {},
  ): Promise<Map<string, string>> {
    if (this.#closed) {
      throw new MogileClientError('ECONNECTION_STATE', 'the client was closed', { command });
    }
    const retryable = options.idempotent ?? IDEMPOTENT_COMMANDS.has(command);
    const timeoutMs = options.timeoutMs ?? this.#options.requestTimeoutMs;
    let lastError: MogileClientError | undefined;
    let reachedOne = false;
    for (const index of this.#attemptOrder()) {
      const tracker = this.#trackers[index]!;
      let connection: TrackerConnection;
      try {
        connection = await this.#acquire(tracker, options.signal);
      } catch (error) {
        const failure = asClientError(error);
        if (failure.code === 'EABORTED') throw failure;
        this.#deadUntil.set(tracker.label, Date.now() + this.#options.deadTrackerRetryMs);
        this.#current = (index + 1) % this.#trackers.length;
        lastError = failure;
        continue;
      }
      reachedOne = true;
      try {
        const reply = await connection.request(command, args, {
          timeoutMs,
          signal: options.signal,
        });
        this.#release(connection);
        return reply;
      } catch (error) {
        const failure = asClientError(error);
        if (failure.fromTracker) {
          // A clean ERR: the exchange completed and the connection is still in step.
          this.#release(connection);
          throw failure;
        }
        connection.destroy(failure.code);
        this.#current = (index + 1) % this.#trackers.length;
        if (failure.code === 'EABORTED' || !retryable) throw failure;
        lastError = failure;
      }
    }
    if (reachedOne && lastError) throw lastError;
    throw new MogileClientError(
      'ENO_TRACKER',
      `couldn't connect to any tracker (${this.trackers.join(', ')})${lastError ? `: ${lastError.message}` : ''}`,
      { command, cause: lastError },
    );
  }

  /** Closes idle connections; later requests fail. In-flight requests finish normally. */
  close(): void {
    this.#closed = true;
    for (const list of this.#idle.values()) {
      for (const { connection, timer } of list) {
        clearTimeout(timer);
        connection.destroy('client closed');
      }
    }
    this.#idle.clear();
  }

  /** Every tracker once, from the current one on; trackers marked dead go last. */
  #attemptOrder(): number[] {
    const count = this.#trackers.length;
    const order =
      count === 1
        ? [0]
        : Array.from({ length: count }, (_, step) => (this.#current + step) % count);
    if (this.#deadUntil.size === 0) return order;
    const now = Date.now();
    const alive = order.filter((i) => (this.#deadUntil.get(this.#trackers[i]!.label) ?? 0) <= now);
    const dead = order.filter((i) => !alive.includes(i));
    return [...alive, ...dead];
  }

  async #acquire(tracker: TrackerAddress, signal?: AbortSignal): Promise<TrackerConnection> {
    const idle = this.#idle.get(tracker.label);
    while (idle && idle.length > 0) {
      const { connection, timer } = idle.pop()!;
      clearTimeout(timer);
      if (!connection.destroyed) return connection;
    }
    const connection = await TrackerConnection.connect(tracker, {
      connectTimeoutMs: this.#options.connectTimeoutMs,
      signal,
    });
    this.#deadUntil.delete(tracker.label);
    return connection;
  }

  #release(connection: TrackerConnection): void {
    if (connection.destroyed) return;
    const label = connection.tracker.label;
    const idle = this.#idle.get(label) ?? [];
    if (this.#closed || idle.length >= this.#options.maxIdlePerTracker) {
      connection.destroy(this.#closed ? 'client closed' : 'idle pool full');
      return;
    }
    const timer = setTimeout(() => {
      const list = this.#idle.get(label);
      const at = list?.findIndex((entry) => entry.connection === connection) ?? -1;
      if (at >= 0) list!.splice(at, 1);
      connection.destroy('idle timeout');
    }, this.#options.idleTimeoutMs);
    timer.unref();
    idle.push({ connection, timer });
    this.#idle.set(label, idle);
  }
}

function asClientError(error: unknown): MogileClientError {
  if (error instanceof MogileClientError) return error;
  return new MogileClientError('ETRACKER_SOCKET', String(error), { cause: error });
}

function shuffled<T>(items: readonly T[]): T[] {
  const copy = [...items];
  for (let i = copy.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [copy[i], copy[j]] = [copy[j]!, copy[i]!];
  }
  return copy;
}
