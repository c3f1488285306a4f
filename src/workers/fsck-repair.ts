import type { ClassRow, FileRow, StoredChecksum } from '../meta/index.js';
import { canReadFrom, type DeviceView } from '../tracker/device-state.js';
import {
  classOf,
  type FsckContext,
  logFsckEvent,
  policyVerdict,
  probeCopy,
  viewOf,
} from './fsck-context.js';
import { contentDigest, type FsckAlgorithm } from './fsck-digest.js';
import { isSatisfied } from './replication-policy-eval.js';

/** `busy`: another worker holds the fid; `stalled`: a copy did not answer. */
export type FsckOutcome = 'handled' | 'stalled' | 'busy';

type Reason = 'NOPA' | 'POVI' | undefined;

const HASHTYPES: Readonly<Record<FsckAlgorithm, number>> = { MD5: 1, 'SHA-1': 2 };
const ALGORITHMS: Readonly<Record<number, FsckAlgorithm>> = { 1: 'MD5', 2: 'SHA-1' };

class Stall extends Error {}

interface Copies {
  /** devid → content digest (hex), or null when no algorithm applies. */
  readonly good: Map<number, string | null>;
  readonly bad: Set<number>;
  /** Copies that could not be looked at; their rows are kept untouched. */
  readonly unknown: Set<number>;
}

/**
 * The slow path of behaviour.md §9.4 for one fid, under the fid's lock: look at every
 * copy, search every device when none is good, drop bad copies, settle checksums, queue
 * replication and fix devcount. `lastChance` turns copies that do not answer into skipped
 * ones (logged `SKIP`) instead of stalling the fid again.
 */
export async function repairFid(
  ctx: FsckContext,
  fid: number,
  reason: Reason,
  lastChance: boolean,
): Promise<FsckOutcome> {
  if (!ctx.locks.tryLock(fid)) return 'busy';
  try {
    return await repairLocked(ctx, fid, reason, lastChance);
  } catch (error) {
    if (error instanceof Stall) return 'stalled';
    throw error;
  } finally {
    ctx.locks.unlock(fid);
  }
}

async function repairLocked(
  ctx: FsckContext,
  fid: number,
  reason: Reason,
  lastChance: boolean,
): Promise<FsckOutcome> {
  const { meta } = ctx.services;
  const file = await meta.findFileByFid(fid);
  if (!file) return 'handled';
  const classRow = classOf(ctx, file);
  const devids = await meta.fileDevids(fid);
  // The condition may have been fixed meanwhile (by the replicator): nothing to log then.
  if (reason === 'NOPA' && devids.length > 0) return 'handled';
  if (reason === 'POVI') {
    const holders = devids.flatMap((devid) => viewOf(ctx, devid) ?? []);
    if (policyVerdict(ctx, classRow, holders).kind === 'all_good') return 'handled';
  }
  if (reason) await logFsckEvent(ctx, fid, reason);
  const stored = await meta.getChecksum(fid);
  const algorithm = chooseAlgorithm(ctx, classRow, stored);
  const copies = await inspectCopies(ctx, file, devids, algorithm, lastChance);
  if (copies.good.size === 0) {
    await logFsckEvent(ctx, fid, 'SRCH');
    const found = await searchEverywhere(ctx, file, new Set(devids), algorithm, stored, lastChance);
    if (found) {
      const record = await meta.addFileCopy(fid, found.devid);
      // Deleted meanwhile: the copy found is queued for deletion with the file's others.
      if (record.outcome === 'file_deleted') return 'handled';
      await logFsckEvent(ctx, fid, 'FOND', found.devid);
      copies.good.set(found.devid, found.digest);
    } else {
      for (const devid of copies.bad) await meta.removeFileCopy(fid, devid);
      // A copy on a down device may still be fine: only "gone" when nothing is unknown.
      if (copies.unknown.size === 0) await logFsckEvent(ctx, fid, 'GONE');
      return 'handled';
    }
  }
  for (const devid of copies.bad) await meta.removeFileCopy(fid, devid);
  if (algorithm) await settleChecksums(ctx, file, classRow, algorithm, stored, copies.good);
  const goodViews = [...copies.good.keys()].flatMap((devid) => viewOf(ctx, devid) ?? []);
  if (!isSatisfied(policyVerdict(ctx, classRow, goodViews))) {
    await meta.queueReplication(fid, ctx.services.nowSeconds() + 1);
    await logFsckEvent(ctx, fid, 'REPL');
  }
  if (!ctx.mode.skipDevcount && (await meta.refreshFileDevcount(fid))) {
    await logFsckEvent(ctx, fid, 'BCNT');
  }
  return 'handled';
}

/**
 * Class hashtype, else the `fsck_checksum` algorithm (§9.4 step 1); mogile adds the stored
 * checksum's algorithm in the default mode, since it stores one for every file.
 */
function chooseAlgorithm(
  ctx: FsckContext,
  classRow: ClassRow,
  stored: StoredChecksum | undefined,
): FsckAlgorithm | undefined {
  const byClass = classRow.hashtype ? ALGORITHMS[classRow.hashtype] : undefined;
  if (byClass) return byClass;
  if (ctx.mode.checksum === 'off') return undefined;
  if (ctx.mode.checksum) return ctx.mode.checksum;
  return stored ? ALGORITHMS[stored.hashtype] : undefined;
}

async function inspectCopies(
  ctx: FsckContext,
  file: FileRow,
  devids: readonly number[],
  algorithm: FsckAlgorithm | undefined,
  lastChance: boolean,
): Promise<Copies> {
  const copies: Copies = { good: new Map(), bad: new Set(), unknown: new Set() };
  for (const devid of devids) {
    const view = viewOf(ctx, devid);
    const probe = await probeCopy(ctx, view, file.fid);
    if (probe.kind === 'dead') copies.bad.add(devid);
    else if (probe.kind === 'unprobeable') await skip(ctx, file.fid, devid, copies);
    else if (probe.kind === 'unreachable') {
      if (!lastChance) throw new Stall();
      await skip(ctx, file.fid, devid, copies);
    } else if (probe.kind === 'missing') {
      await logFsckEvent(ctx, file.fid, 'MISS', devid);
      copies.bad.add(devid);
    } else if (probe.sizeBytes !== file.length) {
      await logFsckEvent(ctx, file.fid, 'BLEN', devid);
      copies.bad.add(devid);
    } else if (!algorithm) {
      copies.good.set(devid, null);
    } else {
      const digest = await digestOf(ctx, view!, file.fid, algorithm);
      if (digest.kind === 'digest') copies.good.set(devid, digest.hex);
      else if (digest.kind === 'missing') {
        await logFsckEvent(ctx, file.fid, 'MISS', devid);
        copies.bad.add(devid);
      } else if (!lastChance) throw new Stall();
      else await skip(ctx, file.fid, devid, copies);
    }
  }
  return copies;
}

async function skip(ctx: FsckContext, fid: number, devid: number, copies: Copies): Promise<void> {
  copies.unknown.add(devid);
  await logFsckEvent(ctx, fid, 'SKIP', devid);
}

function digestOf(ctx: FsckContext, view: DeviceView, fid: number, algorithm: FsckAlgorithm) {
  return contentDigest({
    view,
    fid,
    algorithm,
    sideChannelPort: ctx.services.options.mogstoredStreamPort,
    timeoutMs: ctx.services.options.nodeTimeoutMs,
    agent: ctx.agent,
    sign: (url) => ctx.services.nodes.sign(url),
  });
}

/**
 * §9.4 step 3: every readable device not already known to hold the fid, in random order,
 * until one has a copy of the right size (and checksum, when one is stored). Devices that
 * are down are not searched: they cannot answer, and waiting for them stalled the
 * original forever.
 */
async function searchEverywhere(
  ctx: FsckContext,
  file: FileRow,
  known: ReadonlySet<number>,
  algorithm: FsckAlgorithm | undefined,
  stored: StoredChecksum | undefined,
  lastChance: boolean,
): Promise<{ devid: number; digest: string | null } | undefined> {
  const candidates = ctx.all
    .filter((view) => !known.has(view.device.devid) && canReadFrom(view))
    .map((view) => ({ view, order: ctx.random() }))
    .sort((a, b) => a.order - b.order)
    .map((entry) => entry.view);
  const expected =
    stored && algorithm && HASHTYPES[algorithm] === stored.hashtype
      ? Buffer.from(stored.digest).toString('hex')
      : undefined;
  for (const view of candidates) {
    const probe = await probeCopy(ctx, view, file.fid);
    if (probe.kind === 'unreachable' && !lastChance) throw new Stall();
    if (probe.kind !== 'present' || probe.sizeBytes !== file.length) continue;
    if (!algorithm) return { devid: view.device.devid, digest: null };
    const digest = await digestOf(ctx, view, file.fid, algorithm);
    if (digest.kind === 'unreachable' && !lastChance) throw new Stall();
    if (digest.kind !== 'digest' || (expected && digest.hex !== expected)) continue;
    return { devid: view.device.devid, digest: digest.hex };
  }
  return undefined;
}

/** §9.4 step 5. Copies that disagree with a stored checksum are dropped (re-replicated). */
async function settleChecksums(
  ctx: FsckContext,
  file: FileRow,
  classRow: ClassRow,
  algorithm: FsckAlgorithm,
  stored: StoredChecksum | undefined,
  good: Map<number, string | null>,
): Promise<void> {
  const { meta } = ctx.services;
  const digests = new Set([...good.values()].filter((hex): hex is string => hex !== null));
  if (digests.size === 0) return;
  const hashtype = HASHTYPES[algorithm];
  const storedHex = stored ? Buffer.from(stored.digest).toString('hex') : undefined;
  if (digests.size === 1) {
    const [hex] = digests;
    if (stored) {
      if (stored.hashtype !== hashtype) await logFsckEvent(ctx, file.fid, 'BALG');
      else if (hex !== storedHex) await logFsckEvent(ctx, file.fid, 'BSUM');
    } else if (classRow.hashtype) {
      await meta.saveChecksumIfAbsent(file.fid, {
        hashtype,
        digest: new Uint8Array(Buffer.from(hex!, 'hex')),
      });
      await logFsckEvent(ctx, file.fid, 'NSUM');
    }
    return;
  }
  if (stored && stored.hashtype === hashtype) {
    const matching = [...good].filter(([, hex]) => hex === storedHex);
    if (matching.length === 0) {
      await logFsckEvent(ctx, file.fid, 'BSUM');
      return;
    }
    for (const [devid, hex] of [...good]) {
      if (hex === storedHex) continue;
      await logFsckEvent(ctx, file.fid, 'BSUM', devid);
      await meta.removeFileCopy(file.fid, devid);
      good.delete(devid);
    }
    return;
  }
  const explicit = ctx.mode.checksum === 'MD5' || ctx.mode.checksum === 'SHA-1';
  await logFsckEvent(ctx, file.fid, !stored && explicit ? 'MSUM' : 'BSUM');
}
