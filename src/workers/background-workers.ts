import { randomBytes } from 'node:crypto';
import { DeleteWorker } from './delete-worker.js';
import { DutyLease, DutyLeaseRenewer, LeasedWorker } from './duty-lease.js';
import { FidLocks } from './fid-locks.js';
import { FsckChecker } from './fsck-checker.js';
import { FsckInjector } from './fsck-injector.js';
import { NodeCopier } from './node-copy.js';
import { REAPER_SCHEDULE, Reaper } from './reaper.js';
import { RebalanceInjector } from './rebalance-injector.js';
import { RebalanceMover } from './rebalance-mover.js';
import { Replicator } from './replicator.js';
import { type WorkerClock, WorkerRunner } from './runner.js';
import { TempfileSweeper } from './tempfile-sweeper.js';
import type { WorkerServices } from './worker-services.js';

/**
 * Passes of the replicator start at least this far apart: woken by every stored file, it
 * would otherwise claim the files one at a time, a write transaction each.
 */
const REPLICATE_MIN_INTERVAL_MS = 20;

export interface BackgroundWorkersOptions {
  readonly services: WorkerServices;
  /** The monitor's first round; no worker acts on devices it has not observed yet. */
  readonly startAfter: Promise<void>;
  readonly clock?: WorkerClock;
}

/**
 * The tracker's background duties (behaviour.md §1, §6, §7, §11) under one runner:
 * replicator every 1 s, delete worker every 1 s, tempfile sweeper every 60 s, reaper every
 * 5 s; each goes again at once (after yielding) when it found work, except the reaper,
 * which is held to one pass (≤ `queue_rate_for_reaper` copies) per second. The replicator
 * also looks as soon as this tracker queues a new file (`replicationQueued`).
 */
export class BackgroundWorkers {
  readonly replicator: Replicator;
  readonly #runner: WorkerRunner;
  readonly #copier: NodeCopier;
  readonly #fsckChecker: FsckChecker;
  readonly #rebalanceMover: RebalanceMover;
  readonly #deleter: DeleteWorker;
  readonly #duties: DutyLeaseRenewer;

  constructor(options: BackgroundWorkersOptions) {
    const { services } = options;
    const fidLocks = new FidLocks();
    // Cluster-wide duties run on one tracker at a time, the holder of their lease
    // (architecture.md §6); the names are the original's named locks where it had one.
    const holder = `${services.options.hostname}/${process.pid}/${randomBytes(4).toString('hex')}`;
    const lease = (name: string) =>
      new DutyLease({
        meta: services.meta,
        name,
        holder,
        nowSeconds: services.nowSeconds,
        logger: services.logger,
      });
    const leases = {
      tempfiles: lease('mgfs:tempfiles'),
      reaper: lease('mgfs:reaper'),
      fsckInjector: lease('mogile:fsck-injector'),
      rebalanceInjector: lease('mogile:rebalance-injector'),
    };
    this.#duties = new DutyLeaseRenewer(Object.values(leases));
    this.replicator = new Replicator({ services, fidLocks });
    this.#copier = new NodeCopier({
      nodes: services.nodes,
      mogstoredStreamPort: services.options.mogstoredStreamPort,
      headersTimeoutMs: Math.max(services.options.nodeTimeoutMs, 10_000),
    });
    const deleter = new DeleteWorker({ services, fidLocks, copier: this.#copier });
    this.#deleter = deleter;
    // Fsck and rebalance (behaviour.md §9–10): injectors act only on the tracker their
    // settings name; checkers and movers run everywhere.
    this.#fsckChecker = new FsckChecker({ services, fidLocks });
    this.#rebalanceMover = new RebalanceMover({ services, fidLocks });
    this.#runner = new WorkerRunner({
      workers: [
        {
          name: 'replicate',
          worker: this.replicator,
          idleMs: 1000,
          busyMs: 0,
          minIntervalMs: REPLICATE_MIN_INTERVAL_MS,
        },
        { name: 'delete', worker: deleter, idleMs: 1000, busyMs: 0 },
        {
          name: 'tempfiles',
          worker: new LeasedWorker(leases.tempfiles, new TempfileSweeper({ services })),
          idleMs: 60_000,
          busyMs: 1000,
        },
        {
          name: 'reaper',
          worker: new LeasedWorker(leases.reaper, new Reaper({ services })),
          ...REAPER_SCHEDULE,
        },
        {
          name: 'fsck-inject',
          worker: new LeasedWorker(leases.fsckInjector, new FsckInjector({ services })),
          idleMs: 1000,
          busyMs: 1000,
        },
        { name: 'fsck', worker: this.#fsckChecker, idleMs: 1000, busyMs: 0 },
        {
          name: 'rebalance-inject',
          worker: new LeasedWorker(leases.rebalanceInjector, new RebalanceInjector({ services })),
          idleMs: 1000,
          busyMs: 1000,
        },
        { name: 'rebalance', worker: this.#rebalanceMover, idleMs: 1000, busyMs: 0 },
        { name: 'duty-leases', worker: this.#duties, idleMs: 3000, busyMs: 3000 },
      ],
      startAfter: options.startAfter,
      ...(options.clock && { clock: options.clock }),
      logger: services.logger,
    });
  }

  start(): void {
    this.#runner.start();
  }

  /** Counters summed over every pass, by worker name (`replicate`, `delete`, `fsck`, …). */
  totals(): ReadonlyMap<string, ReadonlyMap<string, number>> {
    return this.#runner.totals();
  }

  /** Every worker looks for work now (`replicate_now`, tests). */
  wake(): void {
    this.#runner.wake();
  }

  /**
   * A file was queued for its copies here: the replicator looks now, not at its next poll.
   * Waiting for the poll lets a second of stores pile up and be copied all at once, and
   * the stores made during that burst wait behind it.
   */
  replicationQueued(): void {
    this.#runner.wake('replicate');
  }

  async stop(): Promise<void> {
    await this.#runner.stop();
    // Another tracker takes the duties over at once instead of after the lease runs out.
    await this.#duties.releaseAll();
    this.#deleter.close();
    await this.replicator.close();
    await this.#copier.close();
    await this.#fsckChecker.close();
    await this.#rebalanceMover.close();
  }
}
