import type { ScheduledWorker } from './runner.js';
import type { WorkerServices } from './worker-services.js';

export interface ReaperOptions {
  readonly services: WorkerServices;
  /** Copies handled per pass; overrides `queue_rate_for_reaper` (tests). */
  readonly batchSize?: number;
}

/** §13 default of `queue_rate_for_reaper`: copies re-queued per pass. */
export const DEFAULT_REAPER_BATCH = 1000;
/** The largest batch a setting can ask for: keeps each statement's parameter list small. */
export const MAX_REAPER_BATCH = 10_000;

/**
 * How the runner schedules the reaper: every 5 s while no dead device has copies, every
 * 1 s while one has, and never two passes less than 1 s apart, `wake()` included. A pass
 * reaps one device: BEGIN, SELECT, INSERT, DELETE, COMMIT (and one bounded COUNT when
 * `queue_size_for_reaper` is set), so the cluster's reaper load is ≤ 5 (6) statements and
 * ≤ `queue_rate_for_reaper` rows per second (docs/operations.md). A dead device found
 * empty costs 3 statements (BEGIN, SELECT, COMMIT) and is looked at again only after
 * 60 s, then 120 s, … up to every 2 hours.
 */
export const REAPER_SCHEDULE: Pick<ScheduledWorker, 'idleMs' | 'busyMs' | 'minIntervalMs'> = {
  idleMs: 5000,
  busyMs: 1000,
  minIntervalMs: 1000,
};

/** Back-off for a dead device found empty (behaviour.md §11): 60 s, doubling, ≤ 7200 s. */
const FIRST_RECHECK_SECONDS = 60;
const LAST_RECHECK_SECONDS = 7200;

/**
 * Gives up the copies on dead devices (behaviour.md §11): each pass re-queues at most
 * `queue_rate_for_reaper` copies of one dead device for replication and drops their
 * `file_on` rows, taking fewer or none when `queue_size_for_reaper` is set and the
 * replication queue is near or at it. A batch is a constant number of statements in one
 * transaction, and the runner spaces passes out (REAPER_SCHEDULE), so a device with
 * millions of copies is drained at a fixed pace instead of in one flood. Unlike the
 * original there is no 16 s grace: the replicator already ignores dead devices' copies
 * (§5.2), so reaping at once is safe.
 */
export class Reaper {
  readonly #options: ReaperOptions;
  /** Dead devices found empty: when to look again, and the back-off after that. */
  readonly #drained = new Map<number, { atSeconds: number; backoffSeconds: number }>();

  constructor(options: ReaperOptions) {
    this.#options = options;
  }

  async runOnce(): Promise<{ readonly reaped: number }> {
    const { meta, cluster, nowSeconds } = this.#options.services;
    const snapshot = await cluster.current();
    const dead = snapshot.devices.filter((device) => device.status === 'dead');
    for (const devid of this.#drained.keys()) {
      if (!dead.some((device) => device.devid === devid)) this.#drained.delete(devid);
    }
    const now = nowSeconds();
    const due = dead.filter((device) => (this.#drained.get(device.devid)?.atSeconds ?? 0) <= now);
    if (due.length === 0) return { reaped: 0 };
    // The cached settings, like the original's server_setting_cached: no query per pass.
    const { settings } = snapshot;
    let limit =
      this.#options.batchSize ??
      Math.min(
        MAX_REAPER_BATCH,
        positiveSetting(settings, 'queue_rate_for_reaper') ?? DEFAULT_REAPER_BATCH,
      );
    const cap = positiveSetting(settings, 'queue_size_for_reaper');
    if (cap !== undefined) limit = Math.min(limit, cap - (await meta.replicationQueueLength(cap)));
    if (limit <= 0) return { reaped: 0 };
    for (const device of due) {
      const reaped = await meta.reapDeviceCopies({ devid: device.devid, nowSeconds: now, limit });
      // One device's batch per pass: the pass stays a constant number of statements.
      if (reaped > 0) {
        this.#drained.delete(device.devid);
        return { reaped };
      }
      const backoffSeconds = Math.min(
        LAST_RECHECK_SECONDS,
        (this.#drained.get(device.devid)?.backoffSeconds ?? FIRST_RECHECK_SECONDS / 2) * 2,
      );
      this.#drained.set(device.devid, { atSeconds: now + backoffSeconds, backoffSeconds });
    }
    return { reaped: 0 };
  }
}

/** A setting's whole number when it is one above 0; otherwise undefined (unset, 0, junk). */
function positiveSetting(settings: ReadonlyMap<string, string>, key: string): number | undefined {
  const value = Number.parseInt(settings.get(key) ?? '', 10);
  return Number.isFinite(value) && value > 0 ? value : undefined;
}
