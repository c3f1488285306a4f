import type { FileRow } from '../../meta/index.js';
import { evaluatePolicy } from '../../workers/replication-policy-eval.js';
import type { ClusterSnapshot } from '../cluster-view.js';
import type { CommandContext } from '../command.js';
import { deviceViews } from '../device-selection.js';
import { shouldGetNewFiles } from '../device-state.js';
import { parseReplicationPolicy } from '../replication-policy.js';
import { classOfFile } from './file-reads.js';

/**
 * Why a fid has the copies it has, for `file_debug` (our extension): the class's policy,
 * what that policy says right now, the devices it would copy to, and the last error this
 * tracker's replicator met for the fid.
 */
export function replicationStatus(
  file: FileRow,
  holders: readonly number[],
  snapshot: ClusterSnapshot,
  ctx: CommandContext,
): Record<string, string> {
  const { observations, options, workers } = ctx.services;
  const classRow = classOfFile(snapshot, file, ctx);
  const policyText = classRow?.replpolicy || 'MultipleHosts()';
  const all = deviceViews(snapshot);
  const on = all.filter(
    (view) => holders.includes(view.device.devid) && view.device.status !== 'dead',
  );
  const verdict = evaluatePolicy(parseReplicationPolicy(policyText), {
    on,
    all,
    failed: new Set(),
    mindevcount: classRow?.mindevcount ?? options.defaultMindevcount,
    mayReceive: (view) => shouldGetNewFiles(view, observations, options.minFreeSpaceMb),
  });
  const status: Record<string, string> = {
    repl_policy: policyText,
    repl_verdict: verdict.kind,
  };
  if (verdict.kind === 'request') {
    status['repl_ideal'] = verdict.ideal.map((view) => view.device.devid).join(',');
    status['repl_desperate'] = verdict.desperate.map((view) => view.device.devid).join(',');
  }
  const lastError = workers?.replicator.lastError(file.fid);
  if (lastError) status['replqueue_last_error'] = lastError;
  return status;
}
