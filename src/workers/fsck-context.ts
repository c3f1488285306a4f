import type { Agent } from 'node:http';
import type { ClassRow, FileRow } from '../meta/index.js';
import type { ClusterSnapshot } from '../tracker/cluster-view.js';
import { domainClasses } from '../tracker/commands/class-list.js';
import { deviceViews } from '../tracker/device-selection.js';
import { canReadFrom, type DeviceView, shouldGetNewFiles } from '../tracker/device-state.js';
import { parseReplicationPolicy } from '../tracker/replication-policy.js';
import { storageUrl } from '../tracker/storage-urls.js';
import type { FidLocks } from './fid-locks.js';
import type { FsckAlgorithm } from './fsck-digest.js';
import { evaluatePolicy, type PolicyVerdict } from './replication-policy-eval.js';
import type { WorkerServices } from './worker-services.js';

/** The fsck settings of one pass (behaviour.md §9.2, §13). */
export interface FsckMode {
  readonly policyOnly: boolean;
  /** `fsck_checksum`: undefined = `class` (the default). */
  readonly checksum: 'off' | FsckAlgorithm | undefined;
  readonly skipDevcount: boolean;
}

/** Everything checking one fid needs; built once per pass. */
export interface FsckContext {
  readonly services: WorkerServices;
  readonly locks: FidLocks;
  readonly agent: Agent;
  readonly snapshot: ClusterSnapshot;
  readonly all: readonly DeviceView[];
  readonly mode: FsckMode;
  readonly random: () => number;
}

/** How a copy looked from here. */
export type CopyProbe =
  | { readonly kind: 'present'; readonly sizeBytes: number }
  | { readonly kind: 'missing' }
  | { readonly kind: 'dead' }
  /** Down device or host, or unknown device: nothing can be learnt about it now. */
  | { readonly kind: 'unprobeable' }
  | { readonly kind: 'unreachable' };

export function fsckMode(settings: ReadonlyMap<string, string>): FsckMode {
  const checksum = settings.get('fsck_checksum');
  return {
    policyOnly: settings.get('fsck_opt_policy_only') === '1',
    checksum:
      checksum === 'off' || checksum === 'MD5' || checksum === 'SHA-1' ? checksum : undefined,
    skipDevcount: settings.get('skip_devcount') === '1',
  };
}

export function fsckContext(
  services: WorkerServices,
  locks: FidLocks,
  agent: Agent,
  snapshot: ClusterSnapshot,
  mode: FsckMode,
  random: () => number,
): FsckContext {
  return { services, locks, agent, snapshot, all: deviceViews(snapshot), mode, random };
}

export function classOf(ctx: FsckContext, file: FileRow): ClassRow {
  const classes = domainClasses(ctx.snapshot, file.dmid, ctx.services.options.defaultMindevcount);
  return classes.find((row) => row.classid === file.classid) ?? classes[0]!;
}

export function viewOf(ctx: FsckContext, devid: number): DeviceView | undefined {
  return ctx.all.find((view) => view.device.devid === devid);
}

/**
 * The class policy over the holding devices. Fsck passes every holding device, dead ones
 * included (behaviour.md §5.2).
 */
export function policyVerdict(
  ctx: FsckContext,
  classRow: ClassRow,
  holders: readonly DeviceView[],
): PolicyVerdict {
  const { observations, options } = ctx.services;
  return evaluatePolicy(parseReplicationPolicy(classRow.replpolicy), {
    on: holders,
    all: ctx.all,
    failed: new Set(),
    mindevcount: classRow.mindevcount,
    mayReceive: (view) => shouldGetNewFiles(view, observations, options.minFreeSpaceMb),
    random: ctx.random,
  });
}

/**
 * HEADs one copy. Copies on devices that cannot be read administratively (device or host
 * `down`) are not probed at all: the original waited for them forever (QUIRK of §9.4),
 * mogile reports them `unprobeable` and moves on.
 */
export async function probeCopy(
  ctx: FsckContext,
  view: DeviceView | undefined,
  fid: number,
): Promise<CopyProbe> {
  if (!view) return { kind: 'unprobeable' };
  if (view.device.status === 'dead') return { kind: 'dead' };
  if (!canReadFrom(view)) return { kind: 'unprobeable' };
  const url = storageUrl(view.host, view.device.devid, fid, 'read');
  const head = await ctx.services.nodes
    .head(url, ctx.services.options.nodeTimeoutMs)
    .catch(() => undefined);
  if (!head) return { kind: 'unreachable' };
  if (head.status === 404) return { kind: 'missing' };
  if (head.status !== 200 || head.sizeBytes === undefined) return { kind: 'unreachable' };
  return { kind: 'present', sizeBytes: head.sizeBytes };
}

export async function logFsckEvent(
  ctx: FsckContext,
  fid: number,
  evcode: string,
  devid?: number,
): Promise<void> {
  await ctx.services.meta.appendFsckLog({
    utimeSeconds: ctx.services.nowSeconds(),
    fid,
    evcode,
    devid,
  });
}
