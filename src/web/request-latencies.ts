import type { QueryStats, RecentQuery } from '../tracker/query-stats.js';

/**
 * Latencies of the queries finished since the last `drain()`, for the dashboard's p99
 * line. Bounded: past `limit` entries it keeps a uniform sample (reservoir), so a burst
 * cannot grow memory.
 */
export class RequestLatencies {
  readonly #limit: number;
  #latenciesMs: number[] = [];
  #seen = 0;
  #errors = 0;
  readonly #unsubscribe: () => void;

  constructor(stats: QueryStats, limit = 10_000) {
    this.#limit = limit;
    this.#unsubscribe = stats.onQuery((query) => this.#add(query));
  }

  /** Count, error count and p99 (ms) of the window, then starts a new window. */
  drain(): { count: number; errors: number; p99Ms: number } {
    const sorted = this.#latenciesMs.sort((a, b) => a - b);
    const p99Ms = sorted.length === 0 ? 0 : sorted[Math.ceil(sorted.length * 0.99) - 1]!;
    const result = { count: this.#seen, errors: this.#errors, p99Ms };
    this.#latenciesMs = [];
    this.#seen = 0;
    this.#errors = 0;
    return result;
  }

  close(): void {
    this.#unsubscribe();
  }

  #add(query: RecentQuery): void {
    this.#seen += 1;
    if (query.result !== undefined && query.result !== 'ok') this.#errors += 1;
    if (this.#latenciesMs.length < this.#limit) {
      this.#latenciesMs.push(query.totalMs);
      return;
    }
    const slot = Math.floor(Math.random() * this.#seen);
    if (slot < this.#limit) this.#latenciesMs[slot] = query.totalMs;
  }
}
