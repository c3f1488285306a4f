import type { QueueDepthReader } from './queue-depths.js';
import type { RequestLatencies } from './request-latencies.js';
import type { WebSources } from './web-sources.js';

/** The series the dashboard draws, one number per sample each. */
export const HISTORY_SERIES = [
  'replicateQueue',
  'deleteQueue',
  'fsckQueue',
  'rebalanceQueue',
  'requestsPerSecond',
  'errorsPerSecond',
  'p99Ms',
  'dbInUse',
  'dbWaiting',
  'copiesPerSecond',
  'deletionsPerSecond',
  'fsckChecksPerSecond',
] as const;
export type HistorySeries = (typeof HISTORY_SERIES)[number];

export interface History {
  readonly intervalMs: number;
  /** Unix seconds of each sample, oldest first. */
  readonly time: readonly number[];
  /** null where the value was unknown (the database did not answer). */
  readonly series: Readonly<Record<HistorySeries, readonly (number | null)[]>>;
}

/** Counters of worker passes whose rate the dashboard draws. */
const WORKER_RATES: Readonly<Record<string, [string, string]>> = {
  copiesPerSecond: ['replicate', 'copiesMade'],
  deletionsPerSecond: ['delete', 'copiesDeleted'],
  fsckChecksPerSecond: ['fsck', 'handled'],
};

/**
 * Samples queue depths, request rate and p99 every `intervalMs` into ring buffers of
 * `capacity` samples (30 minutes at the default 5 s), kept in memory only: the
 * dashboard's time series, with no database or Prometheus needed.
 */
export class HistorySampler {
  readonly #sources: WebSources;
  readonly #queues: QueueDepthReader;
  readonly #latencies: RequestLatencies;
  readonly #intervalMs: number;
  readonly #capacity: number;
  readonly #time: number[] = [];
  readonly #series = seriesOf(() => [] as (number | null)[]);
  #lastAtMs = Date.now();
  #lastWorkerTotals = new Map<string, number>();
  #timer: NodeJS.Timeout | undefined;
  #sampling: Promise<void> = Promise.resolve();

  constructor(
    sources: WebSources,
    queues: QueueDepthReader,
    latencies: RequestLatencies,
    intervalMs: number,
    capacity = 360,
  ) {
    this.#sources = sources;
    this.#queues = queues;
    this.#latencies = latencies;
    this.#intervalMs = intervalMs;
    this.#capacity = capacity;
    this.#lastWorkerTotals = this.#workerTotals();
  }

  /** Samples now, then every interval. */
  start(): void {
    this.#sampling = this.sample();
    this.#timer = setInterval(() => {
      this.#sampling = this.#sampling.then(() => this.sample());
    }, this.#intervalMs);
    this.#timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.#timer);
    await this.#sampling;
  }

  history(): History {
    const series = seriesOf((name) => [...this.#series[name]]);
    return { intervalMs: this.#intervalMs, time: [...this.#time], series };
  }

  /** Takes one sample now (the timer calls it; tests may too). */
  async sample(): Promise<void> {
    const nowMs = Date.now();
    const seconds = Math.max(0.001, (nowMs - this.#lastAtMs) / 1000);
    this.#lastAtMs = nowMs;
    const window = this.#latencies.drain();
    const depths = await this.#queues.read().catch(() => undefined);
    const gate = this.#sources.services.dbGate;
    const totals = this.#workerTotals();
    const rate = (name: string) =>
      round(((totals.get(name) ?? 0) - (this.#lastWorkerTotals.get(name) ?? 0)) / seconds);
    const values: Record<HistorySeries, number | null> = {
      replicateQueue: depths?.replicate ?? null,
      deleteQueue: depths?.delete ?? null,
      fsckQueue: depths?.fsck ?? null,
      rebalanceQueue: depths?.rebalance ?? null,
      requestsPerSecond: round(window.count / seconds),
      errorsPerSecond: round(window.errors / seconds),
      p99Ms: round(window.p99Ms),
      dbInUse: gate?.inUse ?? 0,
      dbWaiting: gate?.waiting ?? 0,
      copiesPerSecond: 0,
      deletionsPerSecond: 0,
      fsckChecksPerSecond: 0,
    };
    for (const [series, [worker, counter]] of Object.entries(WORKER_RATES)) {
      values[series as HistorySeries] = rate(`${worker}.${counter}`);
    }
    this.#lastWorkerTotals = totals;
    this.#time.push(Math.round(nowMs / 1000));
    for (const name of HISTORY_SERIES) this.#series[name].push(values[name]);
    if (this.#time.length > this.#capacity) {
      this.#time.shift();
      for (const name of HISTORY_SERIES) this.#series[name].shift();
    }
  }

  #workerTotals(): Map<string, number> {
    const flat = new Map<string, number>();
    for (const [worker, totals] of this.#sources.services.workers?.totals() ?? []) {
      for (const [counter, value] of totals) flat.set(`${worker}.${counter}`, value);
    }
    return flat;
  }
}

function seriesOf<T>(make: (name: HistorySeries) => T): Record<HistorySeries, T> {
  const entries = HISTORY_SERIES.map((name) => [name, make(name)] as const);
  return Object.fromEntries(entries) as unknown as Record<HistorySeries, T>;
}

function round(value: number): number {
  return Math.round(value * 100) / 100;
}
