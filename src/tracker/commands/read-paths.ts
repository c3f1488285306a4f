import type { FileRow } from '../../meta/index.js';
import { fidPath } from '../../protocol/fid-path.js';
import { InvariantError } from '../../protocol/invariant-error.js';
import type { ClusterSnapshot } from '../cluster-view.js';
import type { CommandContext } from '../command.js';
import { type DeviceView, shouldReadFrom, weightedShuffle } from '../device-state.js';
import { storageUrl } from '../storage-urls.js';

export interface PathOptions {
  /** HEAD the first candidate and accept it only with the right size (§5.3 step 5). */
  readonly verify: boolean;
  readonly max: number;
  readonly zone?: string | undefined;
}

/**
 * Read URLs for a file's copies, ordered as spec tracker-protocol.md §5.3 says: weighted
 * random by device weight, `drain` devices last, copies on unreadable devices only as a
 * last resort. Every URL is checked to name the file's own fid on a device that holds it.
 */
export async function orderReadPaths(
  file: FileRow,
  devids: readonly number[],
  snapshot: ClusterSnapshot,
  ctx: CommandContext,
  options: PathOptions,
): Promise<string[]> {
  const views = devids.flatMap((devid): DeviceView[] => {
    const device = snapshot.device(devid);
    const host = device && snapshot.host(device.hostid);
    if (!device) {
      ctx.reportInvariant?.(`file_on names unknown device ${devid} for fid ${file.fid}`);
    }
    return device && host ? [{ device, host }] : [];
  });
  const ordered = weightedShuffle(views, (view) => {
    // The original's iostat rule almost never applies (§5.3 QUIRK): weight decides.
    const weight = view.device.weight ?? 100;
    return weight === 0 ? 100 : weight;
  });
  const audience = { clientIp: ctx.clientIp, zone: options.zone };
  const paths: string[] = [];
  const drained: string[] = [];
  let backup: string | undefined;
  let accepted = false;
  for (const view of ordered) {
    const url = storageUrl(view.host, view.device.devid, file.fid, 'read', audience);
    checkPath(url, file, view.device.devid, devids);
    if (!shouldReadFrom(view, ctx.services.observations)) {
      backup = url;
      continue;
    }
    if (!accepted && options.verify && !(await copyLooksRight(url, file, ctx))) continue;
    accepted = true;
    (view.device.status === 'drain' ? drained : paths).push(url);
  }
  const all = [...paths, ...drained];
  const chosen = all.length === 0 && backup !== undefined ? [backup] : all.slice(0, options.max);
  // Signed only after the checks: the signature must not hide a wrong path.
  return chosen.map((url) => ctx.services.nodes.sign(url, 'read'));
}

/**
 * HEADs a copy. A device that answers but lacks the copy, or holds it at another size,
 * breaks the rule that `file_on` names devices holding the fid: the path is skipped (as
 * §5.3 says) and the breach logged and counted. An unreachable node is only skipped.
 */
async function copyLooksRight(url: string, file: FileRow, ctx: CommandContext): Promise<boolean> {
  let head: Awaited<ReturnType<typeof ctx.services.nodes.head>>;
  try {
    head = await ctx.services.nodes.head(url, ctx.services.options.nodeTimeoutMs);
  } catch {
    return false;
  }
  if (head.status >= 200 && head.status < 300 && head.sizeBytes === file.length) return true;
  if (head.status === 404) {
    ctx.reportInvariant?.(`fid ${file.fid} is recorded on ${url} but the device does not hold it`);
  } else if (head.status >= 200 && head.status < 300) {
    ctx.reportInvariant?.(
      `fid ${file.fid} at ${url} has ${String(head.sizeBytes)} bytes, recorded ${file.length}`,
    );
  }
  return false;
}

/** A path must name this file's fid on a device that holds it (architecture.md §4.5). */
function checkPath(url: string, file: FileRow, devid: number, holders: readonly number[]): void {
  if (!holders.includes(devid) || !url.endsWith(fidPath(devid, file.fid))) {
    throw new InvariantError(`path ${url} does not name fid ${file.fid} on a device holding it`);
  }
}
