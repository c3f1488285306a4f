import type { Command } from 'commander';
import { type AdminContext, adminCommand, runAdmin } from './admin-runner.js';
import { renderSettings } from './settings-commands.js';
import { formatBytes, formatCount, formatDuration } from './sizes.js';
import { renderFields } from './table.js';
import {
  addWatchOptions,
  isWatching,
  progressBar,
  ratePerSecond,
  type WatchOptions,
  watchLoop,
} from './watch.js';

/** `mogile admin rebalance policy|test|start|stop|status|reset|settings` (mogadm's). */
export function registerRebalanceCommands(admin: Command): void {
  const rebalance = admin
    .command('rebalance')
    .description('move files between devices (and drain)');
  adminCommand(rebalance, 'policy', 'set the policy (or show it, without --options)')
    .option('--options <policy>', 'policy, e.g. "from_devices=7 to_hosts=2,3"')
    .action(
      runAdmin(async (ctx) => {
        const policy = ctx.options['options'] as string | undefined;
        if (policy !== undefined) await ctx.admin.rebalanceSetPolicy(policy);
        const current = await ctx.admin.serverSetting('rebal_policy');
        await ctx.result({ policy: current ?? null }, () =>
          policy !== undefined
            ? `Rebalance policy set: ${current}\n`
            : `${current ?? '(no policy)'}\n`,
        );
      }),
    );
  adminCommand(rebalance, 'test', 'which devices the policy would move from and to').action(
    runAdmin(async (ctx) => {
      const { sourceDevids, destinationDevids } = await ctx.admin.rebalanceTest();
      const policy = (await ctx.admin.serverSetting('rebal_policy')) ?? '';
      await ctx.result({ policy, sourceDevids, destinationDevids }, () =>
        [
          `Policy: ${policy}\n\n`,
          'Source devices:\n',
          ...(sourceDevids.length
            ? sourceDevids.map((devid) => `  - dev${devid}\n`)
            : ['  (none)\n']),
          'Destination devices:\n',
          ...(destinationDevids.length
            ? destinationDevids.map((devid) => `  - dev${devid}\n`)
            : ['  (none)\n']),
        ].join(''),
      );
    }),
  );
  adminCommand(rebalance, 'start', 'start or resume the rebalance').action(
    runAdmin(async (ctx) => {
      const state = parseState(await ctx.admin.rebalanceStart());
      await ctx.result({ started: true, state }, () => 'Rebalance started.\n');
    }),
  );
  adminCommand(rebalance, 'stop', 'stop the rebalance (queued moves still finish)').action(
    runAdmin(async (ctx) => {
      await ctx.admin.rebalanceStop();
      await ctx.result({ stopped: true }, () => 'Rebalance stopping.\n');
    }),
  );
  adminCommand(rebalance, 'reset', 'forget the state; the next start begins anew').action(
    runAdmin(async (ctx) => {
      await ctx.admin.rebalanceReset();
      await ctx.result({ reset: true }, () => 'Rebalance state cleared.\n');
    }),
  );
  adminCommand(rebalance, 'settings', 'the rebalance settings').action(
    runAdmin(async (ctx) => {
      const all = await ctx.admin.serverSettings();
      const shown = Object.fromEntries(
        Object.entries(all).filter(([key]) => key.startsWith('rebal')),
      );
      await ctx.result(shown, () => renderSettings(shown));
    }),
  );
  addWatchOptions(adminCommand(rebalance, 'status', 'progress of the rebalance')).action(
    runAdmin(rebalanceStatus),
  );
}

interface RebalanceView {
  readonly running: boolean;
  readonly host: string | undefined;
  readonly policy: string | undefined;
  readonly state: Record<string, string>;
}

/** `key=value` tokens separated by spaces (spec behaviour.md §10.2). */
function parseState(text: string): Record<string, string> {
  const state: Record<string, string> = {};
  for (const token of text.split(/\s+/).filter(Boolean)) {
    const at = token.indexOf('=');
    state[at < 0 ? token : token.slice(0, at)] = at < 0 ? '' : token.slice(at + 1);
  }
  return state;
}

async function rebalanceStatus(ctx: AdminContext): Promise<void> {
  const sample = async (): Promise<RebalanceView> => {
    const [stateText, host, policy] = await Promise.all([
      ctx.admin.rebalanceStatus(),
      ctx.admin.serverSetting('rebal_host'),
      ctx.admin.serverSetting('rebal_policy'),
    ]);
    return { running: host !== undefined, host, policy, state: parseState(stateText) };
  };
  const options = ctx.options as WatchOptions;
  if (!isWatching(options) || ctx.json) {
    const view = await sample();
    await ctx.result(view, () => renderStatus(view, undefined, 0));
    return;
  }
  await watchLoop(options, sample, renderStatus);
}

function list(text: string | undefined): string[] {
  return (text ?? '').split(',').filter(Boolean);
}

function renderStatus(
  view: RebalanceView,
  previous: RebalanceView | undefined,
  elapsed: number,
): string {
  const { state } = view;
  const completed = list(state['completed_devs']);
  const current = Number(state['sdev_current'] ?? 0);
  // The device being drained has left `source_devs` but is not done yet.
  const total = list(state['source_devs']).length + completed.length + (current ? 1 : 0);
  const fids = Number(state['fids_queued'] ?? 0);
  const bytes = Number(state['bytes_queued'] ?? 0);
  const started = Number(state['time_started'] ?? 0);
  const fidRate = ratePerSecond(
    fids,
    previous && Number(previous.state['fids_queued'] ?? 0),
    elapsed,
  );
  const byteRate = ratePerSecond(
    bytes,
    previous && Number(previous.state['bytes_queued'] ?? 0),
    elapsed,
  );
  const fields: [string, string | number][] = [
    ['Running', view.running ? `yes (on ${view.host})` : 'no'],
    ['Policy', view.policy ?? '(none)'],
    [
      'Devices',
      `${progressBar(total ? completed.length / total : 0)}  ${completed.length} of ${total} done`,
    ],
    ['Current', current ? `dev${current}` : '-'],
    ['Queued', `${formatCount(fids)} files, ${formatBytes(bytes)}`],
  ];
  if (fidRate !== undefined && byteRate !== undefined) {
    fields.push(['Rate', `${fidRate.toFixed(1)} files/s, ${formatBytes(byteRate)}/s`]);
  }
  if (started) {
    const finished = Number(state['time_finished'] ?? 0);
    fields.push(['Started', new Date(started * 1000).toISOString()]);
    if (finished)
      fields.push([
        'Finished',
        `${new Date(finished * 1000).toISOString()} (${formatDuration(finished - started)})`,
      ]);
  }
  fields.push([
    'State',
    Object.entries(state)
      .map(([key, value]) => `${key}=${value}`)
      .join(' '),
  ]);
  return renderFields(fields);
}
