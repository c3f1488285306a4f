import type { CommandContext, CommandHandler, ReplyArgs, RequestArgs } from '../command.js';

/**
 * `clear_cache` (§6.14): reloads this tracker's view of the cluster and replies when done.
 * Like the original it echoes the request's arguments (the `decode.*` transcripts rely
 * on it); `callid` is left to dispatch.
 */
async function clearCache(args: RequestArgs, ctx: CommandContext): Promise<ReplyArgs> {
  await ctx.services.cluster.refresh();
  await ctx.services.monitor.runRound();
  const echo: Record<string, string> = Object.create(null);
  for (const [name, value] of args) {
    if (name !== 'callid' && !/^\d/.test(name)) echo[name] = value;
  }
  return echo;
}

/** `replicate_now` (§6.13): every deferred replication becomes due. */
async function replicateNow(_args: RequestArgs, ctx: CommandContext): Promise<ReplyArgs> {
  const count = await ctx.services.meta.replicateNow(ctx.services.nowSeconds());
  return { count };
}

/** `do_monitor_round` (§6.15): waits for a monitor round to complete. */
async function doMonitorRound(_args: RequestArgs, ctx: CommandContext): Promise<ReplyArgs> {
  await ctx.services.monitor.runRound();
  return {};
}

export const clusterCommands: Readonly<Record<string, CommandHandler>> = {
  clear_cache: clearCache,
  replicate_now: replicateNow,
  do_monitor_round: doMonitorRound,
};
