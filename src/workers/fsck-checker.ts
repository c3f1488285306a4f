import type { GenericQueueTask } from '../meta/fsck-queries.js';
import { nodeAgent } from '../tracker/node-http.js';
import { ClaimKeeper } from './claim-keeper.js';
import type { FidLocks } from './fid-locks.js';
import {
  type CopyProbe,
  classOf,
  type FsckContext,
  fsckContext,
  fsckMode,
  logFsckEvent,
  policyVerdict,
  probeCopy,
  viewOf,
} from './fsck-context.js';
import { type FsckOutcome, repairFid } from './fsck-repair.js';
import { forEachConcurrently, type WorkerServices } from './worker-services.js';

export interface FsckCheckerOptions {
  readonly services: WorkerServices;
  readonly fidLocks: FidLocks;
  /** Rows claimed per pass (the original's fsck workers ask for 50). */
  readonly batchSize?: number;
  readonly concurrency?: number;
  /**
   * Attempts before a copy that does not answer is skipped (logged `SKIP`) instead of
   * stalling the fid once more (mogile's fix of the §9.4 QUIRK).
   */
  readonly maxStalls?: number;
  /** Seconds before a stalled fid is tried again; doubles with each stall. */
  readonly stallDelaySeconds?: number;
  readonly random?: () => number;
}

export interface FsckCheckerStats {
  readonly claimed: number;
  readonly handled: number;
  readonly stalled: number;
}

/**
 * Checks the fids queued for fsck (`file_to_queue` type 1, behaviour.md §9.3–9.4) on every
 * tracker: the fast path here, the slow path and repairs in fsck-repair.ts. A handled fid
 * leaves the queue; a stalled one is retried with backoff and, after `maxStalls` tries,
 * checked without the copies that still do not answer.
 */
export class FsckChecker {
  readonly #options: FsckCheckerOptions;
  readonly #agent = nodeAgent(8);
  readonly #claims: ClaimKeeper;

  constructor(options: FsckCheckerOptions) {
    this.#options = options;
    this.#claims = new ClaimKeeper({
      meta: options.services.meta,
      scope: { table: 'file_to_queue', type: 1 },
      nowSeconds: options.services.nowSeconds,
      logger: options.services.logger,
    });
  }

  async runOnce(): Promise<FsckCheckerStats> {
    const { services } = this.#options;
    const { meta, nowSeconds } = services;
    const tasks = await meta.claimGenericQueueTasks(1, nowSeconds(), this.#options.batchSize ?? 50);
    const stats = { claimed: tasks.length, handled: 0, stalled: 0 };
    if (tasks.length === 0) return stats;
    this.#claims.hold(tasks);
    const ctx = fsckContext(
      services,
      this.#options.fidLocks,
      this.#agent,
      await services.cluster.current(),
      fsckMode(await meta.listSettings()),
      this.#options.random ?? Math.random,
    );
    await forEachConcurrently(tasks, this.#options.concurrency ?? 8, async (task) => {
      let outcome: FsckOutcome;
      // The claim ran out while the batch waited: the row is another tracker's now.
      if (!this.#claims.mayAct(task.fid)) {
        this.#claims.drop(task.fid);
        return;
      }
      try {
        outcome = await this.#check(ctx, task);
      } catch (error) {
        services.logger?.warn({ err: error, fid: task.fid }, 'fsck check failed');
        outcome = 'stalled';
      }
      if (outcome === 'handled') {
        stats.handled += 1;
        await this.#claims.settle(task.fid, (lease) =>
          meta.finishGenericQueueTask(1, task.fid, lease),
        );
        return;
      }
      stats.stalled += 1;
      const now = nowSeconds();
      // Another worker has the fid ('busy'); that is no reason to give up on any copy.
      const [nexttry, failcount] =
        outcome === 'busy'
          ? [now + 5, task.failcount]
          : [
              now + (this.#options.stallDelaySeconds ?? 30) * 2 ** Math.min(task.failcount, 6),
              task.failcount + 1,
            ];
      await this.#claims.settle(task.fid, (lease) =>
        meta.deferGenericQueueTask(1, task.fid, nexttry, failcount, lease),
      );
    });
    return stats;
  }

  async close(): Promise<void> {
    this.#claims.close();
    this.#agent.destroy();
  }

  /** The fast path (§9.3); anything doubtful goes to the slow path. */
  async #check(ctx: FsckContext, task: GenericQueueTask): Promise<FsckOutcome> {
    const { meta } = ctx.services;
    const lastChance = task.failcount + 1 >= (this.#options.maxStalls ?? 3);
    const file = await meta.findFileByFid(task.fid);
    if (!file) return 'handled';
    const devids = await meta.fileDevids(file.fid);
    if (devids.length === 0) return repairFid(ctx, file.fid, 'NOPA', lastChance);
    const classRow = classOf(ctx, file);
    const holders = devids.flatMap((devid) => viewOf(ctx, devid) ?? []);
    if (policyVerdict(ctx, classRow, holders).kind !== 'all_good') {
      return repairFid(ctx, file.fid, 'POVI', lastChance);
    }
    if (!ctx.mode.skipDevcount && file.devcount !== devids.length) {
      await logFsckEvent(ctx, file.fid, 'BCNT');
      await meta.refreshFileDevcount(file.fid);
    }
    const stored = await meta.getChecksum(file.fid);
    if (classRow.hashtype && !stored) return repairFid(ctx, file.fid, undefined, lastChance);
    if (ctx.mode.policyOnly) return 'handled';
    if (ctx.mode.checksum === 'MD5' || ctx.mode.checksum === 'SHA-1') {
      return repairFid(ctx, file.fid, undefined, lastChance);
    }
    const probes = await Promise.all(
      devids.map(async (devid) => ({
        devid,
        probe: await probeCopy(ctx, viewOf(ctx, devid), file.fid),
      })),
    );
    const skipped: number[] = [];
    for (const { devid, probe } of probes) {
      if (isWrong(probe, file.length)) return repairFid(ctx, file.fid, undefined, lastChance);
      if (probe.kind === 'unreachable' && !lastChance) return 'stalled';
      if (probe.kind === 'unreachable' || probe.kind === 'unprobeable') skipped.push(devid);
    }
    // mogile records a checksum for every file (architecture.md §4.4), so by default fsck
    // verifies every file that has one, not only classes with a hashtype; `off` skips it.
    if ((classRow.hashtype || stored) && ctx.mode.checksum !== 'off') {
      return repairFid(ctx, file.fid, undefined, lastChance);
    }
    for (const devid of skipped) await logFsckEvent(ctx, file.fid, 'SKIP', devid);
    return 'handled';
  }
}

function isWrong(probe: CopyProbe, lengthBytes: number): boolean {
  return (
    probe.kind === 'dead' ||
    probe.kind === 'missing' ||
    (probe.kind === 'present' && probe.sizeBytes !== lengthBytes)
  );
}
