import type { DeviceRow } from '../meta/index.js';
import type { DeviceObservations } from '../tracker/device-observations.js';
import { canDeleteFrom, type DeviceView, shouldGetNewFiles } from '../tracker/device-state.js';
import type { RebalancePolicy, RebalanceState, SpaceFilter } from './rebalance-settings.js';

/**
 * Which devices a rebalance moves from and to (spec behaviour.md §10.1). Sources must be
 * deletable; destinations must take new files and are never sources.
 */

export function rebalanceSources(policy: RebalancePolicy, views: readonly DeviceView[]): number[] {
  return views
    .filter((view) => canDeleteFrom(view))
    .filter((view) => listAllows(policy.fromHosts, view.host.hostid))
    .filter((view) => listAllows(policy.fromDevices, view.device.devid))
    .filter((view) => fromSpaceAllows(policy.from, view.device))
    .map((view) => view.device.devid);
}

export function rebalanceDestinations(
  policy: RebalancePolicy,
  state: RebalanceState | undefined,
  views: readonly DeviceView[],
  observations: DeviceObservations,
  minFreeSpaceMb: number,
): number[] {
  const sources = new Set([
    ...(state?.sourceDevs ?? []),
    ...(state?.completedDevs ?? []),
    ...(state?.sdevCurrent ? [state.sdevCurrent] : []),
    // Before a state exists, the policy's own sources are excluded.
    ...(state ? [] : rebalanceSources(policy, views)),
  ]);
  return views
    .filter((view) => !sources.has(view.device.devid))
    .filter((view) => shouldGetNewFiles(view, observations, minFreeSpaceMb))
    .filter((view) => listAllows(policy.toHosts, view.host.hostid))
    .filter((view) => listAllows(policy.toDevices, view.device.devid))
    .filter((view) => !policy.notToHosts.includes(view.host.hostid))
    .filter((view) => !policy.notToDevices.includes(view.device.devid))
    .filter((view) => toSpaceAllows(policy.to, view.device))
    .map((view) => view.device.devid);
}

/** An empty list allows everything. */
function listAllows(list: readonly number[], id: number): boolean {
  return list.length === 0 || list.includes(id);
}

interface Usage {
  readonly percentUsed: number;
  readonly usedMb: number;
  readonly freeMb: number;
}

function usageOf(device: DeviceRow): Usage | undefined {
  if (!device.mbTotal || device.mbUsed === null) return undefined;
  return {
    percentUsed: (100 * device.mbUsed) / device.mbTotal,
    usedMb: device.mbUsed,
    freeMb: device.mbTotal - device.mbUsed,
  };
}

/** Sources must exceed each given figure (§10.1); unknown usage fails any figure. */
function fromSpaceAllows(filter: SpaceFilter, device: DeviceRow): boolean {
  if (Object.values(filter).every((value) => value === undefined)) return true;
  const usage = usageOf(device);
  if (!usage) return false;
  return (
    (filter.percentUsed === undefined || usage.percentUsed > filter.percentUsed) &&
    (filter.percentFree === undefined || 100 - usage.percentUsed > filter.percentFree) &&
    (filter.spaceUsedMb === undefined || usage.usedMb > filter.spaceUsedMb) &&
    (filter.spaceFreeMb === undefined || usage.freeMb > filter.spaceFreeMb)
  );
}

/** Destinations: used figures are ceilings, free figures floors. */
function toSpaceAllows(filter: SpaceFilter, device: DeviceRow): boolean {
  if (Object.values(filter).every((value) => value === undefined)) return true;
  const usage = usageOf(device);
  if (!usage) return false;
  return (
    (filter.percentUsed === undefined || usage.percentUsed < filter.percentUsed) &&
    (filter.percentFree === undefined || 100 - usage.percentUsed > filter.percentFree) &&
    (filter.spaceUsedMb === undefined || usage.usedMb < filter.spaceUsedMb) &&
    (filter.spaceFreeMb === undefined || usage.freeMb > filter.spaceFreeMb)
  );
}
