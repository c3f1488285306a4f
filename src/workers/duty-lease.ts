import type { Logger } from 'pino';
import type { MetaStore } from '../meta/meta-store.js';
import type { Worker } from './runner.js';

/** How long a duty stays with a tracker that stopped renewing (architecture.md §6). */
export const DUTY_LEASE_SECONDS = 10;

export interface DutyLeaseOptions {
  readonly meta: Pick<MetaStore, 'acquireLease' | 'releaseLease'>;
  /** The duty, e.g. `mgfs:reaper` (metadata-schema.md §6). */
  readonly name: string;
  /** This tracker process, unique in the cluster. */
  readonly holder: string;
  readonly nowSeconds: () => number;
  readonly ttlSeconds?: number;
  readonly logger?: Logger | undefined;
}

/**
 * One singleton duty's `mogile_lease` row as this tracker sees it. `hold()` takes or renews
 * it; `held()` answers from memory, true only while at least a third of the lease is left,
 * so a tracker whose renewals fail stops acting before anyone else may start.
 */
export class DutyLease {
  readonly #options: DutyLeaseOptions;
  readonly #ttlSeconds: number;
  #expiresAt = 0;

  constructor(options: DutyLeaseOptions) {
    this.#options = options;
    this.#ttlSeconds = options.ttlSeconds ?? DUTY_LEASE_SECONDS;
  }

  get name(): string {
    return this.#options.name;
  }

  held(): boolean {
    return this.#expiresAt - this.#options.nowSeconds() > this.#ttlSeconds / 3;
  }

  async hold(): Promise<boolean> {
    const { meta, name, holder, nowSeconds, logger } = this.#options;
    const now = nowSeconds();
    const wasHeld = this.#expiresAt > now;
    try {
      const got = await meta.acquireLease(name, holder, now, this.#ttlSeconds);
      this.#expiresAt = got ? now + this.#ttlSeconds : 0;
    } catch (error) {
      logger?.warn({ err: error, duty: name }, 'renewing a duty lease failed');
    }
    const isHeld = this.#expiresAt > now;
    if (isHeld !== wasHeld) logger?.info({ duty: name, held: isHeld }, 'duty lease changed hands');
    return this.held();
  }

  async release(): Promise<void> {
    if (this.#expiresAt === 0) return;
    this.#expiresAt = 0;
    await this.#options.meta.releaseLease(this.#options.name, this.#options.holder);
  }
}

/**
 * Runs `worker` only on the tracker holding `lease`: each pass first takes or renews the
 * lease, and a long pass keeps renewing it. Other trackers' passes find nothing to do.
 */
export class LeasedWorker implements Worker {
  readonly #lease: DutyLease;
  readonly #worker: Worker;
  readonly #renewEveryMs: number;

  constructor(lease: DutyLease, worker: Worker, renewEveryMs = (DUTY_LEASE_SECONDS * 1000) / 3) {
    this.#lease = lease;
    this.#worker = worker;
    this.#renewEveryMs = renewEveryMs;
  }

  async runOnce(): Promise<object> {
    if (!(await this.#lease.hold())) return {};
    const timer = setInterval(() => void this.#lease.hold(), this.#renewEveryMs);
    try {
      return await this.#worker.runOnce();
    } finally {
      clearInterval(timer);
    }
  }
}

/**
 * Keeps the duties this tracker holds from lapsing between passes (the tempfile sweeper
 * runs once a minute), so a duty stays put while its tracker lives.
 */
export class DutyLeaseRenewer implements Worker {
  readonly #leases: readonly DutyLease[];

  constructor(leases: readonly DutyLease[]) {
    this.#leases = leases;
  }

  async runOnce(): Promise<object> {
    for (const lease of this.#leases) if (lease.held()) await lease.hold();
    // Never "busy": the runner's idle pause sets the renewal rhythm.
    return {};
  }

  async releaseAll(): Promise<void> {
    for (const lease of this.#leases) await lease.release().catch(() => undefined);
  }
}
