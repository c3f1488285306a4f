import type { GenericQueueTask } from '../meta/fsck-queries.js';
import type { ClusterSnapshot } from '../tracker/cluster-view.js';
import { domainClasses } from '../tracker/commands/class-list.js';
import { deviceViews } from '../tracker/device-selection.js';
import { type DeviceView, shouldGetNewFiles, shouldReadFrom } from '../tracker/device-state.js';
import { parseReplicationPolicy } from '../tracker/replication-policy.js';
import { storageUrl } from '../tracker/storage-urls.js';
import { ClaimKeeper } from './claim-keeper.js';
import type { FidLocks } from './fid-locks.js';
import { NodeCopier } from './node-copy.js';
import { evaluatePolicy, isSatisfied, type PolicyVerdict } from './replication-policy-eval.js';
import { forEachConcurrently, type WorkerServices } from './worker-services.js';

export interface RebalanceMoverOptions {
  readonly services: WorkerServices;
  readonly fidLocks: FidLocks;
  readonly batchSize?: number;
  readonly concurrency?: number;
  readonly random?: () => number;
}

export interface RebalanceMoverStats {
  readonly claimed: number;
  readonly moved: number;
  readonly failed: number;
}

type MoveResult = 'moved' | 'not_needed' | 'busy' | string;

/**
 * Moves the fids queued by a rebalance (`file_to_queue` type 2, behaviour.md §10.3): the
 * fid is replicated with its source copy masked and destinations limited to the row's
 * list; once the policy holds without the source, the source copy is DELETEd and its row
 * removed. The queue row goes whatever happened (failures are logged), as in the original.
 */
export class RebalanceMover {
  readonly #options: RebalanceMoverOptions;
  readonly #copier: NodeCopier;
  readonly #random: () => number;
  readonly #claims: ClaimKeeper;

  constructor(options: RebalanceMoverOptions) {
    this.#options = options;
    this.#claims = new ClaimKeeper({
      meta: options.services.meta,
      scope: { table: 'file_to_queue', type: 2 },
      nowSeconds: options.services.nowSeconds,
      logger: options.services.logger,
    });
    this.#random = options.random ?? Math.random;
    this.#copier = new NodeCopier({
      nodes: options.services.nodes,
      mogstoredStreamPort: options.services.options.mogstoredStreamPort,
      headersTimeoutMs: Math.max(options.services.options.nodeTimeoutMs, 10_000),
      connections: 8,
      betweenNodes: options.services.options.copiesBetweenNodes,
      sourceFromGetPort: options.services.options.replUseGetPort,
      logger: options.services.logger,
    });
  }

  async runOnce(): Promise<RebalanceMoverStats> {
    const { meta, nowSeconds, cluster, logger } = this.#options.services;
    const tasks = await meta.claimGenericQueueTasks(2, nowSeconds(), this.#options.batchSize ?? 50);
    const stats = { claimed: tasks.length, moved: 0, failed: 0 };
    if (tasks.length === 0) return stats;
    this.#claims.hold(tasks);
    const snapshot = await cluster.current();
    await forEachConcurrently(tasks, this.#options.concurrency ?? 4, async (task) => {
      let result: MoveResult;
      // The claim ran out while the batch waited: the row is another tracker's now.
      if (!this.#claims.mayAct(task.fid)) {
        this.#claims.drop(task.fid);
        return;
      }
      if (!this.#options.fidLocks.tryLock(task.fid)) {
        result = 'busy';
      } else {
        try {
          result = await this.#move(task, snapshot);
        } catch (error) {
          result = (error as Error).message;
        } finally {
          this.#options.fidLocks.unlock(task.fid);
        }
      }
      if (result === 'busy') {
        // The replicator or fsck has the fid right now: try again shortly.
        await this.#claims.settle(task.fid, (lease) =>
          meta.deferGenericQueueTask(2, task.fid, nowSeconds() + 5, task.failcount, lease),
        );
        return;
      }
      if (result === 'moved') stats.moved += 1;
      else if (result !== 'not_needed') {
        stats.failed += 1;
        logger?.warn({ fid: task.fid, devid: task.devid, reason: result }, 'rebalance move failed');
      }
      await this.#claims.settle(task.fid, (lease) =>
        meta.finishGenericQueueTask(2, task.fid, lease),
      );
    });
    return stats;
  }

  close(): Promise<void> {
    this.#claims.close();
    return this.#copier.close();
  }

  async #move(task: GenericQueueTask, snapshot: ClusterSnapshot): Promise<MoveResult> {
    const { meta, observations, options } = this.#options.services;
    const source = task.devid;
    const file = await meta.findFileByFid(task.fid);
    if (!file || source === null) return 'not_needed';
    const devids = await meta.fileDevids(file.fid);
    if (!devids.includes(source)) return 'not_needed';
    const all = deviceViews(snapshot);
    const holders = all.filter(
      (view) => devids.includes(view.device.devid) && view.device.status !== 'dead',
    );
    const sourceView = holders.find((view) => view.device.devid === source);
    if (!sourceView) return 'source device unknown';
    const allowed = new Set((task.arg ?? '').split(',').filter(Boolean).map(Number));
    const classes = domainClasses(snapshot, file.dmid, options.defaultMindevcount);
    const classRow = classes.find((row) => row.classid === file.classid) ?? classes[0]!;
    const policy = parseReplicationPolicy(classRow.replpolicy);
    const failed = new Set<number>();
    const evaluate = (on: readonly DeviceView[]): PolicyVerdict =>
      evaluatePolicy(policy, {
        on,
        all,
        failed,
        mindevcount: classRow.mindevcount,
        mayReceive: (view) =>
          allowed.has(view.device.devid) &&
          shouldGetNewFiles(view, observations, options.minFreeSpaceMb),
        random: this.#random,
      });
    // The source is masked: the policy must hold without it (§10.3).
    let on = holders.filter((view) => view !== sourceView);
    const stored = await meta.getChecksum(file.fid);
    let copies = 0;
    let verdict = evaluate(on);
    while (verdict.kind === 'request') {
      // Only ideal destinations: a desperate one would make placement worse.
      const destination = verdict.ideal[0];
      if (!destination) return 'would_worsen';
      const from = this.#pickSource(holders, failed);
      if (!from) return 'source_down';
      const copied = await this.#copier.copy({
        fid: file.fid,
        lengthBytes: file.length,
        source: from,
        destination,
        stored,
      });
      if (!copied.ok) {
        failed.add(copied.side === 'source' ? from.device.devid : destination.device.devid);
        if (copied.side === 'source' && from === sourceView) return `source: ${copied.reason}`;
      } else {
        const record = await meta.addFileCopy(file.fid, destination.device.devid);
        if (record.outcome !== 'recorded') return 'not_needed';
        if (!stored) await meta.saveChecksumIfAbsent(file.fid, copied.digest);
        copies += 1;
        on = [...on, destination];
      }
      verdict = evaluate(on);
    }
    if (!isSatisfied(verdict)) return `policy: ${verdict.kind}`;
    if (copies === 0 && !(await this.#anotherCopyAnswers(on, file.fid, file.length))) {
      return 'no other copy answers';
    }
    const status = await this.#copier.delete(
      storageUrl(sourceView.host, source, file.fid, 'upload'),
    );
    if (status === undefined || (status !== 404 && (status < 200 || status > 299))) {
      return `DELETE answered ${status ?? 'nothing'}`;
    }
    await meta.removeFileCopy(file.fid, source);
    return 'moved';
  }

  /** Any readable copy, the source's included (a drained device still serves reads). */
  #pickSource(holders: readonly DeviceView[], failed: ReadonlySet<number>): DeviceView | undefined {
    const usable = holders.filter(
      (view) =>
        !failed.has(view.device.devid) && shouldReadFrom(view, this.#options.services.observations),
    );
    return usable[Math.floor(this.#random() * usable.length)];
  }

  async #anotherCopyAnswers(
    on: readonly DeviceView[],
    fid: number,
    lengthBytes: number,
  ): Promise<boolean> {
    const { nodes, observations, options } = this.#options.services;
    for (const view of on) {
      if (!shouldReadFrom(view, observations)) continue;
      const url = storageUrl(view.host, view.device.devid, fid, 'read');
      const head = await nodes.head(url, options.nodeTimeoutMs).catch(() => undefined);
      if (head?.status === 200 && head.sizeBytes === lengthBytes) return true;
    }
    return false;
  }
}
