import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ClassRow } from '../../meta/index.js';
import { defaultErrorText, MogileError } from '../../protocol/errors.js';
import { evaluatePolicy, isSatisfied } from '../../workers/replication-policy-eval.js';
import type { CommandContext } from '../command.js';
import { deviceViews } from '../device-selection.js';
import { shouldGetNewFiles } from '../device-state.js';
import { parseReplicationPolicy } from '../replication-policy.js';

/** Room left for writing the reply before it would go stale. */
const REPLY_MARGIN_MS = 200;
/** Copies made by another tracker's replicator are seen by polling this often. */
const POLL_MS = 50;

/**
 * For a `durability=sync` class: returns once the fid has the class's copies, or throws
 * `not_replicated` when they cannot exist before the reply must leave. The key stays
 * bound either way; the replicator goes on (docs/protocol-extensions.md).
 */
export async function awaitClassCopies(
  fid: number,
  classRow: ClassRow,
  ctx: CommandContext,
): Promise<void> {
  const { meta, cluster, observations, options, workers } = ctx.services;
  const policy = parseReplicationPolicy(classRow.replpolicy);
  const giveUpAtMs = (ctx.replyByMs ?? performance.now() + 2000) - REPLY_MARGIN_MS;
  for (;;) {
    const [devids, snapshot] = await Promise.all([meta.fileDevids(fid), cluster.current()]);
    const all = deviceViews(snapshot);
    const on = all.filter(
      (view) => devids.includes(view.device.devid) && view.device.status !== 'dead',
    );
    const verdict = evaluatePolicy(policy, {
      on,
      all,
      failed: new Set(),
      mindevcount: classRow.mindevcount,
      mayReceive: (view) => shouldGetNewFiles(view, observations, options.minFreeSpaceMb),
    });
    // The policy can call fewer copies than mindevcount good (all the cluster's disks hold
    // one); a sync class wants its count, so that is a failure, not a success.
    if (isSatisfied(verdict) && on.length >= classRow.mindevcount) return;
    const stuck = verdict.kind !== 'request';
    const leftMs = giveUpAtMs - performance.now();
    if (stuck || leftMs <= 0 || ctx.signal.aborted) {
      throw new MogileError(
        'not_replicated',
        `${defaultErrorText('not_replicated')} (fid ${fid}: ${on.length} of ` +
          `${classRow.mindevcount} copies${stuck ? `, policy says ${verdict.kind}` : ''})`,
      );
    }
    const waitMs = Math.min(POLL_MS, leftMs);
    if (workers) await workers.replicator.copies.next(fid, waitMs);
    else await sleep(waitMs);
  }
}
