import type { DeletionTask } from '../meta/queue-queries.js';
import type { ClusterSnapshot } from '../tracker/cluster-view.js';
import { canDeleteFrom, isObservedWriteable } from '../tracker/device-state.js';
import { storageUrl } from '../tracker/storage-urls.js';
import { ClaimKeeper } from './claim-keeper.js';
import type { FidLocks } from './fid-locks.js';
import type { NodeCopier } from './node-copy.js';
import { type DeleteSetback, deleteRetryDelay } from './retry-delays.js';
import { forEachConcurrently, type WorkerServices } from './worker-services.js';

export interface DeleteWorkerOptions {
  readonly services: WorkerServices;
  readonly fidLocks: FidLocks;
  /** Sends the DELETEs; shared with the replicator for its connection pool. */
  readonly copier: Pick<NodeCopier, 'delete'>;
  readonly batchSize?: number;
  readonly concurrency?: number;
}

export interface DeleteWorkerStats {
  readonly claimed: number;
  readonly done: number;
  readonly deferred: number;
  readonly copiesDeleted: number;
}

/**
 * Removes the copies of deleted fids (behaviour.md §7.1): claims due `file_to_delete2`
 * rows, DELETEs every copy, and forgets each `file_on` row once its copy is gone.
 */
export class DeleteWorker {
  readonly #options: DeleteWorkerOptions;
  readonly #claims: ClaimKeeper;

  constructor(options: DeleteWorkerOptions) {
    this.#options = options;
    this.#claims = new ClaimKeeper({
      meta: options.services.meta,
      scope: { table: 'file_to_delete2' },
      nowSeconds: options.services.nowSeconds,
      logger: options.services.logger,
    });
  }

  close(): void {
    this.#claims.close();
  }

  async runOnce(): Promise<DeleteWorkerStats> {
    const { meta, nowSeconds, cluster } = this.#options.services;
    const tasks = await meta.claimDeletionTasks(nowSeconds(), this.#options.batchSize ?? 200);
    const stats = { claimed: tasks.length, done: 0, deferred: 0, copiesDeleted: 0 };
    if (tasks.length === 0) return stats;
    this.#claims.hold(tasks);
    const snapshot = await cluster.current();
    await forEachConcurrently(tasks, this.#options.concurrency ?? 16, async (task) => {
      // The claim ran out while the batch waited: the row is another tracker's now.
      if (!this.#claims.mayAct(task.fid)) {
        this.#claims.drop(task.fid);
        stats.deferred += 1;
        return;
      }
      try {
        const result = await this.#deleteFid(task, snapshot);
        stats.copiesDeleted += result.deleted;
        if (result.finished) stats.done += 1;
        else stats.deferred += 1;
      } catch (error) {
        this.#options.services.logger?.warn({ err: error, fid: task.fid }, 'delete failed');
        await this.#defer(task, 1800 * (1 + task.failcount), task.failcount + 1);
        stats.deferred += 1;
      }
    });
    return stats;
  }

  async #deleteFid(
    task: DeletionTask,
    snapshot: ClusterSnapshot,
  ): Promise<{ finished: boolean; deleted: number }> {
    const { meta, observations } = this.#options.services;
    const locks = this.#options.fidLocks;
    // Never delete while this tracker replicates the same fid (§7.1 step 1).
    if (!locks.tryLock(task.fid)) {
      await this.#defer(task, 1, task.failcount + 1);
      return { finished: false, deleted: 0 };
    }
    try {
      await meta.forgetDeletedFid(task.fid);
      let delay = 0;
      let setbacks = 0;
      let deleted = 0;
      const setback = (reason: DeleteSetback) => {
        delay = Math.max(delay, deleteRetryDelay(reason, task.failcount));
        setbacks += 1;
      };
      for (const devid of await meta.fileDevids(task.fid)) {
        const device = snapshot.device(devid);
        const host = device && snapshot.host(device.hostid);
        // An unknown device can never be reached; keeping its row would re-claim the item
        // forever (the §7.1 QUIRK we fix).
        if (!device || !host || device.status === 'dead') {
          await meta.dropCopyRow(task.fid, devid);
          continue;
        }
        const view = { device, host };
        if (!isObservedWriteable(view, observations)) {
          setback('not_writeable');
          continue;
        }
        if (!canDeleteFrom(view)) {
          setback('not_deletable');
          continue;
        }
        const status = await this.#options.copier.delete(
          storageUrl(host, devid, task.fid, 'upload'),
        );
        if (status !== undefined && ((status >= 200 && status < 300) || status === 404)) {
          await meta.dropCopyRow(task.fid, devid);
          deleted += 1;
        } else {
          setback('http_failed');
        }
      }
      if (setbacks > 0) {
        await this.#defer(task, delay, task.failcount + 1);
        return { finished: false, deleted };
      }
      await this.#claims.settle(task.fid, (lease) =>
        meta.finishQueueRow('file_to_delete2', task.fid, lease),
      );
      return { finished: true, deleted };
    } finally {
      locks.unlock(task.fid);
    }
  }

  async #defer(task: DeletionTask, delaySeconds: number, failcount: number): Promise<void> {
    const { meta, nowSeconds } = this.#options.services;
    await this.#claims.settle(task.fid, (lease) =>
      meta.deferQueueRow(
        'file_to_delete2',
        task.fid,
        nowSeconds() + delaySeconds,
        failcount,
        lease,
      ),
    );
  }
}
