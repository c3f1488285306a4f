import type { ClusterSnapshot } from './cluster-view.js';
import type { DeviceObservations } from './device-observations.js';
import {
  type DeviceView,
  mbFree,
  percentFree,
  shouldGetNewFiles,
  weightedShuffle,
} from './device-state.js';

export interface UploadRequest {
  /** 1, or up to 3 with `multi_dest`. */
  readonly count: number;
  /** Expected size; devices known to lack the room are left out. */
  readonly sizeBytes?: number;
  readonly minFreeSpaceMb: number;
}

/** Every device with its host; devices whose host is unknown are left out. */
export function deviceViews(snapshot: ClusterSnapshot): DeviceView[] {
  return snapshot.devices.flatMap((device) => {
    const host = snapshot.host(device.hostid);
    return host ? [{ device, host }] : [];
  });
}

/**
 * Destinations for a new upload (spec tracker-protocol.md §5.1 steps 4–6): writeable
 * devices with room, the 20 freest ordered by weighted chance of their free share, at most
 * one per host. (The original's host check compares devids with hostids; we really spread
 * over hosts.)
 */
export function chooseUploadDevices(
  snapshot: ClusterSnapshot,
  observations: DeviceObservations,
  request: UploadRequest,
  random: () => number = Math.random,
): DeviceView[] {
  let candidates = deviceViews(snapshot);
  if (request.sizeBytes) {
    const size = request.sizeBytes;
    const roomy = candidates.filter((view) => {
      const free = mbFree(view.device);
      return free !== undefined && free * 1048576 > size;
    });
    candidates =
      roomy.length > 0 ? roomy : candidates.filter((v) => mbFree(v.device) === undefined);
  }
  const writable = candidates
    .filter((view) => shouldGetNewFiles(view, observations, request.minFreeSpaceMb))
    .sort((a, b) => percentFree(b.device) - percentFree(a.device))
    .slice(0, 20);
  const ordered = weightedShuffle(writable, (view) => 100 * percentFree(view.device), random);
  const chosen: DeviceView[] = [];
  const usedHosts = new Set<number>();
  for (const view of ordered) {
    if (chosen.length >= request.count) break;
    if (usedHosts.has(view.host.hostid)) continue;
    chosen.push(view);
    usedHosts.add(view.host.hostid);
  }
  return chosen;
}
