import type { Logger } from 'pino';

/** Time as the runner sees it; tests inject their own. */
export interface WorkerClock {
  /** Resolves after `ms`, or early (without error) when `signal` aborts. */
  sleep(ms: number, signal: AbortSignal): Promise<void>;
  /** Milliseconds on a monotonic scale (only differences matter). */
  now(): number;
}

export const systemClock: WorkerClock = {
  now: () => performance.now(),
  sleep(ms, signal) {
    return new Promise((resolve) => {
      if (signal.aborted) return resolve();
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        signal.removeEventListener('abort', done);
        resolve();
      }
      signal.addEventListener('abort', done, { once: true });
    });
  },
};

/** Anything with `runOnce`; stats say whether the pass found work. */
export interface Worker {
  runOnce(): Promise<object>;
}

export interface ScheduledWorker {
  readonly name: string;
  readonly worker: Worker;
  /** Pause after a pass that found nothing. */
  readonly idleMs: number;
  /** Pause after a pass that found work (0: go again at once, after yielding). */
  readonly busyMs: number;
  /**
   * The least time from the start of one pass to the start of the next, `wake()` or not:
   * a hard cap on the worker's pass rate (the reaper's bound on database load).
   */
  readonly minIntervalMs?: number;
}

export interface WorkerRunnerOptions {
  readonly workers: readonly ScheduledWorker[];
  /** Workers start once this resolves: the monitor's first round (behaviour.md §1). */
  readonly startAfter?: Promise<void>;
  readonly clock?: WorkerClock;
  readonly logger?: Logger | undefined;
}

/**
 * Schedules the background workers: each loops runOnce → pause, its pause depending on
 * whether the pass found work. `wake()` cuts pauses short (e.g. after `replicate_now`),
 * `wake(name)` only that worker's; `stop()` lets running passes finish, then resolves.
 */
export class WorkerRunner {
  readonly #options: WorkerRunnerOptions;
  readonly #clock: WorkerClock;
  readonly #loops: Promise<void>[] = [];
  /** Per worker name: aborted to end that worker's current pause. */
  readonly #wakeUps = new Map<string, AbortController>();
  readonly #stopping = new AbortController();
  readonly #totals = new Map<string, Map<string, number>>();
  #started = false;

  constructor(options: WorkerRunnerOptions) {
    this.#options = options;
    this.#clock = options.clock ?? systemClock;
  }

  start(): void {
    if (this.#started) return;
    this.#started = true;
    for (const scheduled of this.#options.workers) this.#loops.push(this.#loop(scheduled));
  }

  /**
   * The worker `name`, or every worker, looks for work now: its pause ends, and a worker in
   * the middle of a pass goes again right after it (the pass may have looked too early).
   */
  wake(name?: string): void {
    if (name !== undefined) this.#wakeUps.get(name)?.abort();
    else for (const wakeUp of this.#wakeUps.values()) wakeUp.abort();
  }

  /**
   * Every numeric counter of each worker's passes, summed since start (metrics read the
   * rates from these): worker name → counter → total.
   */
  totals(): ReadonlyMap<string, ReadonlyMap<string, number>> {
    return this.#totals;
  }

  async stop(): Promise<void> {
    this.#stopping.abort();
    this.wake();
    await Promise.all(this.#loops);
  }

  async #loop(scheduled: ScheduledWorker): Promise<void> {
    await Promise.race([
      this.#options.startAfter ?? Promise.resolve(),
      new Promise((resolve) => this.#stopping.signal.addEventListener('abort', resolve)),
    ]);
    while (!this.#stopping.signal.aborted) {
      // Made before the pass, so a wake during the pass ends the pause after it.
      const wakeUp = new AbortController();
      this.#wakeUps.set(scheduled.name, wakeUp);
      const startedAt = this.#clock.now();
      let busy = false;
      try {
        const stats = await scheduled.worker.runOnce();
        this.#addTotals(scheduled.name, stats);
        busy = foundWork(stats);
      } catch (error) {
        this.#options.logger?.warn({ err: error, worker: scheduled.name }, 'worker pass failed');
      }
      if (this.#stopping.signal.aborted) break;
      const pauseMs = busy ? scheduled.busyMs : scheduled.idleMs;
      // Even a busy worker yields to the event loop so client queries go first (§5).
      if (pauseMs <= 0) await new Promise((resolve) => setImmediate(resolve));
      else await this.#clock.sleep(pauseMs, wakeUp.signal);
      // A wake may cut the pause short, but never below the worker's minimum spacing.
      const leftMs = startedAt + (scheduled.minIntervalMs ?? 0) - this.#clock.now();
      if (leftMs > 0 && !this.#stopping.signal.aborted) {
        await this.#clock.sleep(leftMs, this.#stopping.signal);
      }
    }
  }

  #addTotals(name: string, stats: object): void {
    const totals = this.#totals.get(name) ?? new Map<string, number>();
    this.#totals.set(name, totals);
    for (const [counter, value] of Object.entries(stats)) {
      if (typeof value === 'number') totals.set(counter, (totals.get(counter) ?? 0) + value);
    }
  }
}

/** A pass found work when any of its counters is non-zero. */
function foundWork(stats: object): boolean {
  return Object.values(stats).some((value) => typeof value === 'number' && value > 0);
}
