import { MogileError } from '../../protocol/errors.js';
import { rebalanceDestinations, rebalanceSources } from '../../workers/rebalance-devices.js';
import {
  formatRebalanceState,
  newRebalanceState,
  parseRebalancePolicy,
  parseRebalanceState,
  type RebalancePolicy,
  RebalancePolicyError,
} from '../../workers/rebalance-settings.js';
import type { CommandContext, CommandHandler, ReplyArgs, RequestArgs } from '../command.js';
import { deviceViews } from '../device-selection.js';

/**
 * The rebalance commands (spec tracker-protocol.md §6.20). They only edit settings; the
 * tracker named in `rebal_host` does the work (src/workers/rebalance-injector.ts).
 */

async function setPolicy(args: RequestArgs, ctx: CommandContext): Promise<ReplyArgs> {
  const { meta } = ctx.services;
  if (await meta.getSetting('rebal_host')) {
    throw new MogileError(
      'no_set_rebal',
      'cannot change rebalance policy while rebalance is running',
    );
  }
  const policy = args.get('policy');
  if (policy !== undefined) parsePolicy(policy);
  await meta.setSetting('rebal_policy', policy ?? null);
  await meta.setSetting('rebal_state', null);
  return {};
}

function parsePolicy(text: string): RebalancePolicy {
  try {
    return parseRebalancePolicy(text);
  } catch (error) {
    if (error instanceof RebalancePolicyError)
      throw new MogileError('bad_rebal_pol', error.message);
    throw error;
  }
}

async function storedPolicy(ctx: CommandContext): Promise<RebalancePolicy> {
  const text = await ctx.services.meta.getSetting('rebal_policy');
  if (text === undefined) throw new MogileError('no_rebal_policy');
  return parsePolicy(text);
}

/** The devices the policy would use right now (no state: a fresh start). */
async function rebalanceTest(_args: RequestArgs, ctx: CommandContext): Promise<ReplyArgs> {
  const policy = await storedPolicy(ctx);
  const { cluster, observations, options } = ctx.services;
  const views = deviceViews(await cluster.refresh());
  return {
    sdevs: rebalanceSources(policy, views).join(','),
    ddevs: rebalanceDestinations(
      policy,
      undefined,
      views,
      observations,
      options.minFreeSpaceMb,
    ).join(','),
  };
}

async function rebalanceStart(_args: RequestArgs, ctx: CommandContext): Promise<ReplyArgs> {
  const { meta } = ctx.services;
  if (await meta.getSetting('rebal_host')) {
    throw new MogileError('rebal_running', 'rebalance is already running');
  }
  if (await meta.getSetting('fsck_host')) {
    throw new MogileError('fsck_running', 'fsck running; cannot run rebalance at same time');
  }
  let state = await meta.getSetting('rebal_state');
  if (state === undefined) {
    const policy = await storedPolicy(ctx);
    const views = deviceViews(await ctx.services.cluster.refresh());
    state = formatRebalanceState(
      newRebalanceState(rebalanceSources(policy, views), policy, ctx.services.nowSeconds()),
    );
    await meta.setSetting('rebal_state', state);
  }
  await meta.setSetting('rebal_signal', null);
  await meta.setSetting('rebal_host', ctx.services.hostname);
  ctx.services.workers?.wake();
  return { state };
}

/** Asks the rebalance host to stop; it restores the devices it drained (injector). */
async function rebalanceStop(_args: RequestArgs, ctx: CommandContext): Promise<ReplyArgs> {
  const { meta } = ctx.services;
  if (!(await meta.getSetting('rebal_host'))) throw new MogileError('rebal_not_started');
  await meta.setSetting('rebal_signal', 'stop');
  ctx.services.workers?.wake();
  return {};
}

async function rebalanceStatus(_args: RequestArgs, ctx: CommandContext): Promise<ReplyArgs> {
  const state = await ctx.services.meta.getSetting('rebal_state');
  if (state === undefined) throw new MogileError('no_rebal_state');
  // Re-formatted so a state written by another implementation still has every key.
  return { state: formatRebalanceState(parseRebalanceState(state)) };
}

async function rebalanceReset(_args: RequestArgs, ctx: CommandContext): Promise<ReplyArgs> {
  const { meta } = ctx.services;
  if (await meta.getSetting('rebal_host')) {
    throw new MogileError('rebal_running', 'rebalance is running');
  }
  await meta.setSetting('rebal_state', null);
  return {};
}

export const rebalanceCommands: Readonly<Record<string, CommandHandler>> = {
  rebalance_set_policy: setPolicy,
  rebalance_test: rebalanceTest,
  rebalance_start: rebalanceStart,
  rebalance_stop: rebalanceStop,
  rebalance_status: rebalanceStatus,
  rebalance_reset: rebalanceReset,
};
