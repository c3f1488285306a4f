import type { MetaStore } from '../../meta/index.js';
import { MogileError } from '../../protocol/errors.js';
import type { CommandContext, CommandHandler, ReplyArgs, RequestArgs } from '../command.js';
import { isTruthy } from '../command.js';
import { digitsOnly } from './args.js';
import { findClassByName } from './class-list.js';

/**
 * The fsck commands (spec tracker-protocol.md §6.19). All state lives in server settings
 * (behaviour.md §13), so any tracker can answer; the tracker named in `fsck_host` injects
 * the work (src/workers/fsck-injector.ts).
 */

/** mogile's `fsck_start` targets; hidden by `server_settings` like every `fsck_*` key. */
export const FSCK_TARGET_SETTINGS = {
  dmid: 'fsck_target_dmid',
  classid: 'fsck_target_classid',
  prefix: 'fsck_target_prefix',
  devid: 'fsck_target_devid',
} as const;

const SUM_PREFIX = 'fsck_sum_evcount_';

async function fsckStart(args: RequestArgs, ctx: CommandContext): Promise<ReplyArgs> {
  const { meta } = ctx.services;
  if (await meta.getSetting('fsck_host')) {
    throw new MogileError('fsck_running', 'fsck is already running');
  }
  if (await meta.getSetting('rebal_host')) {
    throw new MogileError('rebal_running', 'rebalance running; cannot run fsck at same time');
  }
  const targets = await parseTargets(args, ctx);
  const highest = Number((await meta.getSetting('fsck_highest_fid_checked')) ?? 0) || 0;
  const end = Number((await meta.getSetting('fsck_fid_at_end')) ?? 0) || 0;
  // A finished run, or none ever: start over with a fresh end fid and counters (§6.19).
  if ((highest && end && highest >= end) || (!highest && !end)) await resetRun(meta);
  await meta.setSetting('fsck_start_time', String(ctx.services.nowSeconds()));
  await meta.setSetting('fsck_stop_time', null);
  await meta.setSetting('fsck_fids_checked', '0');
  await meta.setSetting('fsck_start_fid', String(highest));
  for (const [name, field] of Object.entries(FSCK_TARGET_SETTINGS)) {
    const value = targets[name as keyof typeof FSCK_TARGET_SETTINGS];
    await meta.setSetting(field, value === undefined ? null : String(value));
  }
  await meta.setSetting('fsck_host', ctx.services.hostname);
  ctx.services.workers?.wake();
  return {};
}

/**
 * `domain`, `class` (needs `domain`), `prefix` (key prefix, needs `domain`) and `devid`
 * narrow the run to matching files (docs/operations.md). Each `fsck_start` sets exactly
 * the targets it names.
 */
async function parseTargets(
  args: RequestArgs,
  ctx: CommandContext,
): Promise<Partial<Record<keyof typeof FSCK_TARGET_SETTINGS, number | string>>> {
  const targets: Partial<Record<keyof typeof FSCK_TARGET_SETTINGS, number | string>> = {};
  const domainName = args.get('domain');
  const className = args.get('class');
  const prefix = args.get('prefix');
  const devidText = args.get('devid');
  if ((className || prefix) && !domainName) throw new MogileError('no_domain');
  if (domainName) {
    const snapshot = await ctx.services.cluster.refresh();
    const domain = snapshot.domain(domainName);
    if (!domain) throw new MogileError('domain_not_found');
    targets.dmid = domain.dmid;
    if (className) {
      const row = findClassByName(
        snapshot,
        domain.dmid,
        className,
        ctx.services.options.defaultMindevcount,
      );
      if (!row) throw new MogileError('class_not_found');
      targets.classid = row.classid;
    }
    if (prefix) targets.prefix = prefix;
  }
  if (devidText) {
    const devid = digitsOnly(devidText);
    if (devid === undefined) throw new MogileError('invalid_devid', 'devid must be numeric');
    targets.devid = devid;
  }
  return targets;
}

/** `fsck_stop`: always `OK`, running or not; queued items are still processed. */
async function fsckStop(_args: RequestArgs, ctx: CommandContext): Promise<ReplyArgs> {
  const { meta } = ctx.services;
  await meta.setSetting('fsck_host', null);
  await meta.setSetting('fsck_stop_time', String(ctx.services.nowSeconds()));
  return {};
}

async function fsckReset(args: RequestArgs, ctx: CommandContext): Promise<ReplyArgs> {
  const { meta } = ctx.services;
  try {
    await meta.setSetting('fsck_opt_policy_only', isTruthy(args.get('policy_only')) ? '1' : null);
    await meta.setSetting('fsck_highest_fid_checked', args.get('startpos') || '0');
    await resetRun(meta);
  } catch (error) {
    if (error instanceof MogileError) throw error;
    ctx.services.logger?.warn({ err: error }, 'fsck_reset failed');
    throw new MogileError('db');
  }
  return {};
}

/** The original's `_do_fsck_reset`: a new end fid, fresh counters and log cursor. */
async function resetRun(meta: MetaStore): Promise<void> {
  await meta.setSetting('fsck_start_time', null);
  await meta.setSetting('fsck_stop_time', null);
  await meta.setSetting('fsck_fids_checked', '0');
  await meta.setSetting('fsck_fid_at_end', String(await meta.maxFileFid()));
  for (const key of (await meta.listSettings()).keys()) {
    if (key.startsWith(SUM_PREFIX)) await meta.setSetting(key, null);
  }
  const logid = String(await meta.maxFsckLogid());
  await meta.setSetting('fsck_start_maxlogid', logid);
  await meta.setSetting('fsck_logid_processed', logid);
}

async function fsckClearlog(_args: RequestArgs, ctx: CommandContext): Promise<ReplyArgs> {
  await ctx.services.meta.clearFsckLog();
  return {};
}

const LOG_ROWS_PER_REPLY = 100;

/** Up to 100 rows after `after_logid`; NULL columns are left out (§6.19). */
async function fsckGetlog(args: RequestArgs, ctx: CommandContext): Promise<ReplyArgs> {
  const after = Number.parseInt(args.get('after_logid') ?? '0', 10) || 0;
  const rows = await ctx.services.meta.fsckLogAfter(after, LOG_ROWS_PER_REPLY);
  const reply: Record<string, string | number> = { row_count: rows.length };
  for (const [i, row] of rows.entries()) {
    for (const [column, value] of Object.entries(row)) {
      if (value !== null && value !== undefined) reply[`row_${i + 1}_${column}`] = value;
    }
  }
  return reply;
}

async function fsckStatus(_args: RequestArgs, ctx: CommandContext): Promise<ReplyArgs> {
  const { meta } = ctx.services;
  await meta.summarizeFsckLog();
  const settings = await meta.listSettings();
  const number = (key: string) => settings.get(key) || '0';
  const host = settings.get('fsck_host') ?? '';
  const reply: Record<string, string | number> = {
    running: host ? 1 : 0,
    host,
    max_fid_checked: number('fsck_highest_fid_checked'),
    policy_only: number('fsck_opt_policy_only'),
    end_fid: number('fsck_fid_at_end'),
    start_time: number('fsck_start_time'),
    stop_time: number('fsck_stop_time'),
    current_time: ctx.services.nowSeconds(),
    max_logid: await meta.maxFsckLogid(),
  };
  for (const [key, value] of settings) {
    if (key.startsWith(SUM_PREFIX)) reply[`num_${key.slice(SUM_PREFIX.length)}`] = value;
  }
  // mogile's targets, only when the run has some (extra pairs; clients ignore them).
  for (const [name, field] of Object.entries(FSCK_TARGET_SETTINGS)) {
    const value = settings.get(field);
    if (value !== undefined) reply[`target_${name}`] = value;
  }
  return reply;
}

export const fsckCommands: Readonly<Record<string, CommandHandler>> = {
  fsck_start: fsckStart,
  fsck_stop: fsckStop,
  fsck_reset: fsckReset,
  fsck_clearlog: fsckClearlog,
  fsck_getlog: fsckGetlog,
  fsck_status: fsckStatus,
};
