import type { DeviceObservations } from '../tracker/device-observations.js';
import { canDeleteFrom, type DeviceView, shouldReadFrom } from '../tracker/device-state.js';
import type { NodeClient } from '../tracker/node-client.js';
import { storageUrl } from '../tracker/storage-urls.js';
import type { NodeCopier } from './node-copy.js';
import { isSatisfied, type PolicyInput, type PolicyVerdict } from './replication-policy-eval.js';

export interface SurplusContext {
  readonly fid: number;
  readonly lengthBytes: number;
  readonly evaluate: (input: Pick<PolicyInput, 'on'>) => PolicyVerdict;
  readonly observations: DeviceObservations;
  readonly nodes: NodeClient;
  readonly copier: NodeCopier;
  readonly removeCopy: (devid: number) => Promise<void>;
  readonly timeoutMs: number;
  readonly random?: () => number;
}

/** At most this many copies go in one attempt; the rest wait for the next. */
const MAX_REMOVALS = 8;

/**
 * Removes surplus copies of a "too happy" fid (behaviour.md §6.4). A copy goes only when
 * the policy stays satisfied without it and another copy answers HEAD with the right size.
 * Unlike the original, which gives up after the first random pick, every deletable copy is
 * considered, so copies on a crowded host go before the lone copy on another host.
 * Returns the holders left and how many copies were removed.
 */
export async function removeSurplusCopies(
  context: SurplusContext,
  holders: readonly DeviceView[],
): Promise<{ holders: DeviceView[]; removed: number }> {
  let on = [...holders];
  let removed = 0;
  while (removed < MAX_REMOVALS && context.evaluate({ on }).kind === 'too_good') {
    const victim = await removeOne(context, on);
    if (victim === undefined) break;
    on = on.filter((view) => view !== victim);
    removed += 1;
  }
  return { holders: on, removed };
}

async function removeOne(
  context: SurplusContext,
  on: readonly DeviceView[],
): Promise<DeviceView | undefined> {
  const random = context.random ?? Math.random;
  const candidates = on
    .filter((view) => canDeleteFrom(view) && shouldReadFrom(view, context.observations))
    .map((view) => ({ view, order: random() }))
    .sort((a, b) => a.order - b.order)
    .map((entry) => entry.view);
  for (const victim of candidates) {
    const rest = on.filter((view) => view !== victim);
    if (!isSatisfied(context.evaluate({ on: rest }))) continue;
    if (!(await anotherCopyAnswers(context, rest))) return undefined;
    const url = storageUrl(victim.host, victim.device.devid, context.fid, 'upload');
    const status = await context.copier.delete(url);
    if (status === undefined || status < 200 || status > 299) continue;
    await context.removeCopy(victim.device.devid);
    return victim;
  }
  return undefined;
}

async function anotherCopyAnswers(
  context: SurplusContext,
  rest: readonly DeviceView[],
): Promise<boolean> {
  for (const view of rest) {
    if (!shouldReadFrom(view, context.observations)) continue;
    const url = storageUrl(view.host, view.device.devid, context.fid, 'read');
    const head = await context.nodes.head(url, context.timeoutMs).catch(() => undefined);
    if (head && head.status === 200 && head.sizeBytes === context.lengthBytes) return true;
  }
  return false;
}
