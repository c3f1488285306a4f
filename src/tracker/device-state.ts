import type { DeviceRow, HostRow } from '../meta/index.js';
import type { DeviceObservations } from './device-observations.js';

/**
 * The derived predicates of spec behaviour.md §2.4, over one device, its host and what
 * this tracker's monitor last observed.
 */
export interface DeviceView {
  readonly device: DeviceRow;
  readonly host: HostRow;
}

const READABLE_STATES = new Set(['alive', 'readonly', 'drain']);
const WRITABLE_STATES = new Set(['alive', 'drain']);

export function canReadFrom({ device, host }: DeviceView): boolean {
  return (
    (host.status === 'alive' || host.status === 'readonly') && READABLE_STATES.has(device.status)
  );
}

export function canDeleteFrom({ device, host }: DeviceView): boolean {
  return host.status === 'alive' && WRITABLE_STATES.has(device.status);
}

export function shouldReadFrom(view: DeviceView, observations: DeviceObservations): boolean {
  if (!canReadFrom(view) || observations.hostReachable(view.host.hostid) !== true) return false;
  const seen = observations.device(view.device.devid)?.state;
  return seen === 'writeable' || seen === 'readable';
}

export function isObservedWriteable(view: DeviceView, observations: DeviceObservations): boolean {
  return (
    observations.hostReachable(view.host.hostid) === true &&
    observations.device(view.device.devid)?.state === 'writeable'
  );
}

/** Free MiB, or undefined while the monitor has not recorded the device's usage. */
export function mbFree(device: DeviceRow): number | undefined {
  if (!device.mbTotal || device.mbUsed === null) return undefined;
  return device.mbTotal - device.mbUsed;
}

/** 0..1; 0 when unknown, so devices without usage get no new files (§2.4 note). */
export function percentFree(device: DeviceRow): number {
  if (!device.mbTotal || device.mbUsed === null) return 0;
  return 1 - device.mbUsed / device.mbTotal;
}

export function shouldGetNewFiles(
  view: DeviceView,
  observations: DeviceObservations,
  minFreeSpaceMb: number,
): boolean {
  if (view.device.status !== 'alive' || view.host.status !== 'alive') return false;
  if (!isObservedWriteable(view, observations)) return false;
  const free = mbFree(view.device);
  return free === undefined || free >= minFreeSpaceMb;
}

/**
 * Weighted random order (§2.5): repeatedly pick an item with probability proportional to
 * its weight; items of weight ≤ 0 are dropped.
 */
export function weightedShuffle<T>(
  items: readonly T[],
  weightOf: (item: T) => number,
  random: () => number = Math.random,
): T[] {
  const pool = items.map((item) => ({ item, weight: weightOf(item) })).filter((e) => e.weight > 0);
  const ordered: T[] = [];
  let total = pool.reduce((sum, entry) => sum + entry.weight, 0);
  while (pool.length > 0) {
    let target = random() * total;
    let index = pool.findIndex((entry) => {
      target -= entry.weight;
      return target < 0;
    });
    if (index === -1) index = pool.length - 1;
    const [chosen] = pool.splice(index, 1);
    ordered.push(chosen!.item);
    total -= chosen!.weight;
  }
  return ordered;
}
