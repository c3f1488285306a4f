import type { Command } from 'commander';
import type { FsckLogRow, FsckStatus } from '../../client/index.js';
import { type AdminContext, adminCommand, integerOption, runAdmin } from './admin-runner.js';
import { formatCount, formatDuration } from './sizes.js';
import { renderFields, renderTable } from './table.js';
import {
  addWatchOptions,
  isWatching,
  progressBar,
  ratePerSecond,
  type WatchOptions,
  watchLoop,
} from './watch.js';

/** `mogile admin fsck start|stop|status|printlog|reset|clearlog` (mogadm's `fsck`). */
export function registerFsckCommands(admin: Command): void {
  const fsck = admin.command('fsck').description('file system check');
  adminCommand(fsck, 'start', 'start or resume checking files')
    .option('--domain <domain>', 'only files of this domain')
    .option('--class <class>', 'only files of this class (needs --domain)')
    .option('--prefix <prefix>', 'only keys starting with PREFIX (needs --domain)')
    .option('--devid <devid>', 'only files with a copy on this device', integerOption(1))
    .action(
      runAdmin(async (ctx) => {
        const targets = {
          domain: ctx.options['domain'] as string | undefined,
          class: ctx.options['class'] as string | undefined,
          prefix: ctx.options['prefix'] as string | undefined,
          devid: ctx.options['devid'] as number | undefined,
        };
        await ctx.admin.fsckStart(targets);
        await ctx.result({ started: true, ...targets }, () => 'fsck started\n');
      }),
    );
  adminCommand(fsck, 'stop', 'stop queueing files (queued ones are still checked)').action(
    runAdmin(async (ctx) => {
      await ctx.admin.fsckStop();
      await ctx.result({ stopped: true }, () => 'fsck stopped\n');
    }),
  );
  adminCommand(fsck, 'reset', 'start the next run over (from fid 0 or --startpos)')
    .option('--policy-only', 'check placement only, never read files')
    .option('--startpos <fid>', 'first fid of the next run', integerOption(0))
    .action(
      runAdmin(async (ctx) => {
        const policyOnly = ctx.options['policyOnly'] === true;
        const startpos = ctx.options['startpos'] as number | undefined;
        await ctx.admin.fsckReset({ policyOnly, ...(startpos === undefined ? {} : { startpos }) });
        await ctx.result(
          { reset: true, policyOnly, startpos: startpos ?? 0 },
          () => 'fsck reset\n',
        );
      }),
    );
  adminCommand(fsck, 'clearlog', 'delete every fsck log row').action(
    runAdmin(async (ctx) => {
      await ctx.admin.fsckClearLog();
      await ctx.result({ cleared: true }, () => 'fsck log cleared\n');
    }),
  );
  adminCommand(fsck, 'printlog', 'print the fsck log')
    .option('--after <logid>', 'only rows after this log id', integerOption(0))
    .action(runAdmin(printLog));
  addWatchOptions(adminCommand(fsck, 'status', 'progress and findings of the run')).action(
    runAdmin(async (ctx) => {
      const options = ctx.options as WatchOptions;
      if (!isWatching(options) || ctx.json) {
        const status = await ctx.admin.fsckStatus();
        await ctx.result(statusJson(status), () => renderStatus(status, undefined, 0));
        return;
      }
      await watchLoop(options, () => ctx.admin.fsckStatus(), renderStatus);
    }),
  );
}

/** Pages through `fsck_getlog` (100 rows a reply) until it is exhausted. */
async function printLog(ctx: AdminContext): Promise<void> {
  let after = (ctx.options['after'] as number | undefined) ?? 0;
  const rows: FsckLogRow[] = [];
  for (;;) {
    const page = await ctx.admin.fsckLogRows(after);
    if (page.length === 0) break;
    rows.push(...page);
    after = page[page.length - 1]!.logid;
  }
  await ctx.result(rows, () =>
    renderTable(
      [
        { header: 'logid', align: 'right' },
        { header: 'time' },
        { header: 'event' },
        { header: 'fid', align: 'right' },
        { header: 'devid', align: 'right' },
      ],
      rows.map((row) => [
        row.logid,
        new Date(row.utime * 1000).toISOString(),
        row.evcode,
        row.fid,
        row.devid ?? '-',
      ]),
    ),
  );
}

function statusJson(status: FsckStatus): Record<string, unknown> {
  const { raw: _raw, ...rest } = status;
  const targets = Object.fromEntries(
    Object.entries(status.raw)
      .filter(([key]) => key.startsWith('target_'))
      .map(([key, value]) => [key.slice('target_'.length), value]),
  );
  return { ...rest, targets };
}

/** The fields mogadm shows, a bar for the fids checked, and the events found so far. */
function renderStatus(
  status: FsckStatus,
  previous: FsckStatus | undefined,
  elapsedSeconds: number,
): string {
  const { maxFidChecked: checked, endFid: end } = status;
  const runSeconds = status.startTime
    ? (status.stopTime || status.currentTime) - status.startTime
    : 0;
  const averageRate = runSeconds > 0 ? checked / runSeconds : 0;
  const rate = ratePerSecond(checked, previous?.maxFidChecked, elapsedSeconds) ?? averageRate;
  const remaining = rate > 0 && end > checked ? formatDuration((end - checked) / rate) : '-';
  const fields: [string, string | number][] = [
    ['Running', status.running ? `yes (on ${status.host ?? '?'})` : 'no'],
    ['Progress', `${progressBar(end > 0 ? checked / end : 0)}  fid ${checked} of ${end}`],
    ['Time', `${formatDuration(runSeconds)} (${rate.toFixed(1)} fids/s; ${remaining} remain)`],
    [
      'Check type',
      status.policyOnly
        ? 'replication policy only (files are not read)'
        : 'policy and file contents',
    ],
  ];
  for (const [key, value] of Object.entries(status.raw)) {
    if (key.startsWith('target_')) fields.push([`Only ${key.slice('target_'.length)}`, value]);
  }
  const events = Object.entries(status.eventCounts).sort(([a], [b]) => a.localeCompare(b));
  const eventText = events.length
    ? `\n${renderTable(
        [{ header: 'event' }, { header: 'count', align: 'right' }],
        events.map(([code, count]) => [code, formatCount(count)]),
      )}`
    : '';
  return `${renderFields(fields)}${eventText}`;
}
