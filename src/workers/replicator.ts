import type { ClassRow, FileRow } from '../meta/index.js';
import type { ReplicationTask } from '../meta/queue-queries.js';
import type { ClusterSnapshot } from '../tracker/cluster-view.js';
import { domainClasses } from '../tracker/commands/class-list.js';
import { deviceViews } from '../tracker/device-selection.js';
import { type DeviceView, shouldGetNewFiles, shouldReadFrom } from '../tracker/device-state.js';
import { parseReplicationPolicy, type ReplicationPolicy } from '../tracker/replication-policy.js';
import { ClaimKeeper } from './claim-keeper.js';
import { CopyNotifier } from './copy-notifier.js';
import type { FidLocks } from './fid-locks.js';
import { NodeCopier } from './node-copy.js';
import { evaluatePolicy, isSatisfied, type PolicyInput } from './replication-policy-eval.js';
import { END_OF_TIME, replicationRetryDelay } from './retry-delays.js';
import { removeSurplusCopies } from './surplus-removal.js';
import { forEachConcurrently, type WorkerServices } from './worker-services.js';

export interface ReplicatorOptions {
  readonly services: WorkerServices;
  readonly fidLocks: FidLocks;
  /** Rows claimed per runOnce (the original's job master fetches 100–500). */
  readonly batchSize?: number;
  /** Fids replicated at once. */
  readonly concurrency?: number;
  readonly random?: () => number;
}

export interface ReplicatorStats {
  readonly claimed: number;
  readonly done: number;
  readonly deferred: number;
  readonly copiesMade: number;
  /** Of those, copies relayed through the tracker (the node could not pull them). */
  readonly copiesRelayed: number;
  readonly copiesRemoved: number;
  /** Copies not recorded because an invariant broke (architecture.md §4.5). */
  readonly invariantViolations: number;
}

/** The result names of behaviour.md §6.2 and §6.4. */
type Outcome =
  | { readonly result: 'success' | 'nofid' | 'lost_race' }
  | { readonly result: 'too_happy'; readonly removed: number }
  | { readonly result: 'failed_getting_lock' | 'no_source' | 'source_down' }
  // Our claim on the queue row ran out or went to another tracker: hands off the row.
  | { readonly result: 'claim_lost' }
  | { readonly result: 'policy_no_suggestions' | 'policy_error'; readonly reason: string };

/** Last errors kept for `file_debug`; bounded so a long outage cannot grow it forever. */
const MAX_REMEMBERED_ERRORS = 10_000;

/**
 * Brings fids to their class's copy count (behaviour.md §6): claims due
 * `file_to_replicate` rows, copies node to node until the policy is satisfied, removes
 * surplus copies, and reschedules failures with backoff.
 */
export class Replicator {
  /** Signalled whenever this replicator records a copy (a `durability=sync` close waits). */
  readonly copies = new CopyNotifier();
  readonly #services: WorkerServices;
  readonly #locks: FidLocks;
  readonly #copier: NodeCopier;
  readonly #batchSize: number;
  readonly #concurrency: number;
  readonly #random: () => number;
  readonly #lastErrors = new Map<number, string>();
  readonly #claims: ClaimKeeper;

  constructor(options: ReplicatorOptions) {
    this.#services = options.services;
    this.#claims = new ClaimKeeper({
      meta: options.services.meta,
      scope: { table: 'file_to_replicate' },
      nowSeconds: options.services.nowSeconds,
      logger: options.services.logger,
    });
    this.#locks = options.fidLocks;
    this.#batchSize = options.batchSize ?? 200;
    this.#concurrency = options.concurrency ?? 16;
    this.#random = options.random ?? Math.random;
    this.#copier = new NodeCopier({
      nodes: options.services.nodes,
      mogstoredStreamPort: options.services.options.mogstoredStreamPort,
      headersTimeoutMs: Math.max(options.services.options.nodeTimeoutMs, 10_000),
      connections: this.#concurrency * 2,
      betweenNodes: options.services.options.copiesBetweenNodes,
      sourceFromGetPort: options.services.options.replUseGetPort,
      logger: options.services.logger,
    });
  }

  /** Why the fid's last attempt failed, while it waits for its retry. */
  lastError(fid: number): string | undefined {
    return this.#lastErrors.get(fid);
  }

  async runOnce(): Promise<ReplicatorStats> {
    const { meta, nowSeconds } = this.#services;
    const tasks = await meta.claimReplicationTasks(nowSeconds(), this.#batchSize);
    const stats = {
      claimed: tasks.length,
      done: 0,
      deferred: 0,
      copiesMade: 0,
      copiesRelayed: 0,
      copiesRemoved: 0,
      invariantViolations: 0,
    };
    if (tasks.length === 0) return stats;
    this.#claims.hold(tasks);
    const logger = this.#services.logger;
    // Claims, and the start and end of each attempt, so that work on one fid by two
    // trackers at once would show in the logs (test/cluster checks that it never does).
    logger?.debug({ fids: tasks.map((task) => task.fid) }, 'replication claimed');
    const snapshot = await this.#services.cluster.current();
    await forEachConcurrently(tasks, this.#concurrency, async (task) => {
      const counts = { made: 0, relayed: 0, violations: 0 };
      let outcome: Outcome;
      // A claim that ran out while the batch waited is handed off untouched.
      if (!this.#claims.mayAct(task.fid)) {
        outcome = { result: 'claim_lost' };
      } else if (!this.#locks.tryLock(task.fid)) {
        outcome = { result: 'failed_getting_lock' };
      } else {
        logger?.debug({ fid: task.fid, lease: task.lease }, 'replication attempt');
        try {
          outcome = await this.#replicate(task, snapshot, counts);
        } catch (error) {
          this.#services.logger?.warn({ err: error, fid: task.fid }, 'replication failed');
          outcome = { result: 'policy_error', reason: (error as Error).message };
        } finally {
          this.#locks.unlock(task.fid);
        }
      }
      stats.copiesMade += counts.made;
      stats.copiesRelayed += counts.relayed;
      stats.invariantViolations += counts.violations;
      if (outcome.result === 'too_happy') stats.copiesRemoved += outcome.removed;
      if (await this.#settle(task, outcome)) stats.done += 1;
      else stats.deferred += 1;
      logger?.debug({ fid: task.fid, result: outcome.result }, 'replication attempt ended');
    });
    return stats;
  }

  close(): Promise<void> {
    this.#claims.close();
    return this.#copier.close();
  }

  /** §6.2 for one fid. */
  async #replicate(
    task: ReplicationTask,
    snapshot: ClusterSnapshot,
    counts: { made: number; relayed: number; violations: number },
  ): Promise<Outcome> {
    const { meta, observations, options } = this.#services;
    // The file, its copies and its checksum in one statement.
    const located = await meta.locateFid(task.fid);
    if (!located) return { result: 'nofid' };
    const { file, devids, checksum: stored } = located;
    if (file.fid !== task.fid) {
      counts.violations += 1;
      return this.#breach(task.fid, `lookup of fid ${task.fid} returned fid ${file.fid}`);
    }
    const classRow = this.#classOf(snapshot, file);
    const policy = parseReplicationPolicy(classRow.replpolicy);
    const all = deviceViews(snapshot);
    const known = all.filter((view) => devids.includes(view.device.devid));
    if (known.length === 0) return { result: 'no_source' };
    // Dead devices' copies are lost; the reaper re-queues them (§5.2, §11).
    let on = known.filter((view) => view.device.status !== 'dead');
    const readable = on.filter((view) => shouldReadFrom(view, observations));
    if (readable.length === 0) return { result: 'source_down' };
    const failed = new Set<number>();
    const input = (holders: readonly DeviceView[]): PolicyInput => ({
      on: holders,
      all,
      failed,
      mindevcount: classRow.mindevcount,
      mayReceive: (view) => shouldGetNewFiles(view, observations, options.minFreeSpaceMb),
      random: this.#random,
    });
    let verdict = evaluatePolicy(policy, input(on));
    while (verdict.kind === 'request') {
      const destination = verdict.ideal[0] ?? verdict.desperate[0];
      if (!destination) break;
      const destid = destination.device.devid;
      if (failed.has(destid))
        return { result: 'policy_error', reason: 'policy_error_doing_failed' };
      if (on.includes(destination)) {
        return { result: 'policy_error', reason: 'policy_error_already_there' };
      }
      const source = this.#chooseSource(task, on, failed);
      if (!source) return { result: 'source_down' };
      // The claim is the fid's lock across trackers: copy only while it surely holds.
      if (!this.#claims.mayAct(task.fid)) return { result: 'claim_lost' };
      const copied = await this.#copier.copy({
        fid: file.fid,
        lengthBytes: file.length,
        source,
        destination,
        stored,
      });
      if (!copied.ok) {
        const devid = copied.side === 'source' ? source.device.devid : destid;
        failed.add(devid);
        this.#remember(file.fid, `${copied.side} dev${devid}: ${copied.reason}`);
        if (copied.breach && (await this.#stillRecorded(file, copied.side, devid))) {
          counts.violations += 1;
          this.#breach(
            file.fid,
            `copy of fid ${file.fid} from dev${source.device.devid} to dev${destid}: ${copied.side} dev${devid}: ${copied.reason}`,
          );
        }
      } else {
        // The copy is recorded only for the file it was made for (architecture.md §4.5).
        const record = await meta.addFileCopy(file.fid, destid, file);
        if (record.outcome === 'file_deleted') return { result: 'nofid' };
        if (record.outcome === 'file_changed') {
          const { now } = record;
          counts.violations += 1;
          return this.#breach(
            file.fid,
            `fid ${file.fid} (dmid ${file.dmid}, ${file.length} bytes) became fid ${now.fid} ` +
              `(dmid ${now.dmid}, ${now.length} bytes) during its copy to dev${destid}`,
          );
        }
        if (!stored) await meta.saveChecksumIfAbsent(file.fid, copied.digest);
        counts.made += 1;
        if (copied.relayed) counts.relayed += 1;
        this.copies.recorded(file.fid);
        on = [...on, destination];
      }
      verdict = evaluatePolicy(policy, input(on));
    }
    if (verdict.kind === 'too_good') {
      if (!this.#claims.mayAct(task.fid)) return { result: 'claim_lost' };
      return this.#shed(file, policy, input, on);
    }
    if (isSatisfied(verdict)) return { result: counts.made > 0 ? 'success' : 'lost_race' };
    return {
      result: 'policy_no_suggestions',
      reason: this.#lastErrors.get(file.fid) ?? verdict.kind,
    };
  }

  async #shed(
    file: FileRow,
    policy: ReplicationPolicy,
    input: (holders: readonly DeviceView[]) => PolicyInput,
    on: DeviceView[],
  ): Promise<Outcome> {
    const { meta, observations, nodes, options } = this.#services;
    const { holders, removed } = await removeSurplusCopies(
      {
        fid: file.fid,
        lengthBytes: file.length,
        evaluate: ({ on: holders }) => evaluatePolicy(policy, input(holders)),
        observations,
        nodes,
        copier: this.#copier,
        removeCopy: (devid) => meta.removeFileCopy(file.fid, devid),
        timeoutMs: options.nodeTimeoutMs,
        random: this.#random,
      },
      on,
    );
    // Everything surplus went in this attempt: the fid is done, no retry needed.
    if (evaluatePolicy(policy, input(holders)).kind === 'all_good') return { result: 'success' };
    return { result: 'too_happy', removed };
  }

  /** The queue row's fromdevid when it can serve, else a random readable copy (§6.2). */
  #chooseSource(
    task: ReplicationTask,
    on: readonly DeviceView[],
    failed: ReadonlySet<number>,
  ): DeviceView | undefined {
    const usable = on.filter(
      (view) => !failed.has(view.device.devid) && shouldReadFrom(view, this.#services.observations),
    );
    const preferred = usable.find((view) => view.device.devid === task.fromdevid);
    return preferred ?? usable[Math.floor(this.#random() * usable.length)];
  }

  /**
   * A source or destination contradicting the metadata is a breach only while the
   * metadata still says so: a fid deleted or moved meanwhile is an ordinary race.
   */
  async #stillRecorded(file: FileRow, side: 'source' | 'destination', devid: number) {
    if (side === 'destination') return true;
    const { meta } = this.#services;
    const [now, devids] = await Promise.all([
      meta.findFileByFid(file.fid),
      meta.fileDevids(file.fid),
    ]);
    return now !== undefined && devids.includes(devid);
  }

  /** Logs and counts a broken invariant; the queue row waits for a later attempt. */
  #breach(fid: number, detail: string): Outcome {
    this.#services.logger?.error({ fid, detail }, `invariant violated: ${detail}`);
    this.#services.countInvariantViolation?.();
    return { result: 'policy_error', reason: `invariant violated: ${detail}` };
  }

  #classOf(snapshot: ClusterSnapshot, file: FileRow): ClassRow {
    const classes = domainClasses(snapshot, file.dmid, this.#services.options.defaultMindevcount);
    // A class deleted under its files falls back to `default` (classid 0 always exists).
    return classes.find((row) => row.classid === file.classid) ?? classes[0]!;
  }

  /**
   * §6.4: the queue row after an attempt, written only while our claim holds it. True when
   * the row is gone.
   */
  async #settle(task: ReplicationTask, outcome: Outcome): Promise<boolean> {
    if (outcome.result === 'claim_lost') {
      this.#claims.drop(task.fid);
      return false;
    }
    let finished = false;
    await this.#claims.settle(task.fid, async (lease) => {
      finished = await this.#settleRow(task, outcome, lease);
    });
    return finished;
  }

  async #settleRow(task: ReplicationTask, outcome: Outcome, lease: number): Promise<boolean> {
    const { meta, nowSeconds } = this.#services;
    const now = nowSeconds();
    const defer = (nexttry: number, failcount: number) =>
      meta.deferQueueRow('file_to_replicate', task.fid, nexttry, failcount, lease);
    switch (outcome.result) {
      case 'success':
      case 'nofid':
      case 'lost_race':
        this.#lastErrors.delete(task.fid);
        await meta.finishQueueRow('file_to_replicate', task.fid, lease);
        return true;
      case 'failed_getting_lock':
        // The delete worker has the fid; look again shortly rather than after the lease.
        await defer(now + 5, task.failcount);
        return false;
      case 'no_source':
        this.#remember(task.fid, 'no_source: no device holds a copy');
        // The copies went with dead devices: devcount says so instead of the old count.
        await meta.refreshFileDevcount(task.fid);
        await defer(END_OF_TIME, task.failcount + 1);
        return false;
      default: {
        const failcount =
          outcome.result === 'too_happy' && outcome.removed > 0 ? 0 : task.failcount;
        if (outcome.result !== 'too_happy') {
          // source_down after a failed copy: keep the copy's error, it says what went wrong.
          const previous = this.#lastErrors.get(task.fid);
          const detail =
            'reason' in outcome ? `: ${outcome.reason}` : previous ? ` (${previous})` : '';
          this.#remember(task.fid, `${outcome.result}${detail}`);
        }
        const delay = replicationRetryDelay(failcount, this.#random);
        await defer(now + delay, failcount + 1);
        return false;
      }
    }
  }

  #remember(fid: number, error: string): void {
    this.#lastErrors.delete(fid);
    this.#lastErrors.set(fid, error);
    if (this.#lastErrors.size > MAX_REMEMBERED_ERRORS) {
      this.#lastErrors.delete(this.#lastErrors.keys().next().value!);
    }
  }
}
