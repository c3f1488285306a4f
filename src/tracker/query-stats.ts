/** One finished query, as `!recent` lists it (spec tracker-protocol.md §7). */
export interface RecentQuery {
  readonly clientIp: string;
  readonly line: string;
  /** From the line's arrival to its reply being ready. */
  readonly totalMs: number;
  /** Time spent in the command handler. */
  readonly workMs: number;
  /** The command's name (`get_paths`, `!stats`); set by dispatch for metrics. */
  readonly command?: string;
  /** `ok` or the ERR code the request was answered with. */
  readonly result?: string;
}

export type QueryListener = (query: RecentQuery) => void;

const RECENT_LIMIT = 50;

/**
 * Counters behind `!stats` and `!recent`. The original counts queries in its front end;
 * here dispatch reports every non-empty line it answers.
 */
export class QueryStats {
  readonly #startedAtMs: number;
  readonly #counters = new Map<string, number>();
  readonly #recent: RecentQuery[] = [];
  readonly #listeners = new Set<QueryListener>();
  #processing = 0;

  constructor(nowMs: number = Date.now()) {
    this.#startedAtMs = nowMs;
  }

  get processing(): number {
    return this.#processing;
  }

  uptimeSeconds(nowMs: number = Date.now()): number {
    return Math.floor((nowMs - this.#startedAtMs) / 1000);
  }

  /** Marks a query as started; the returned function marks it finished. */
  begin(): (finished: RecentQuery) => void {
    this.#processing += 1;
    this.increment('queries');
    let done = false;
    return (finished) => {
      if (done) return;
      done = true;
      this.#processing -= 1;
      this.#recent.push(finished);
      if (this.#recent.length > RECENT_LIMIT) this.#recent.shift();
      for (const listener of this.#listeners) listener(finished);
    };
  }

  /** Calls `listener` with every finished query (metrics); returns the unsubscribe. */
  onQuery(listener: QueryListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  increment(counter: string, by = 1): void {
    this.#counters.set(counter, (this.#counters.get(counter) ?? 0) + by);
  }

  /** Counters sorted by name, as `!stats` prints them. */
  counters(): [string, number][] {
    return [...this.#counters].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  }

  /** Oldest first, at most 50. */
  recent(): readonly RecentQuery[] {
    return [...this.#recent];
  }
}
