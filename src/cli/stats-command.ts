import type { Command } from 'commander';
import type { ClusterStats, DeviceInfo, MogileAdmin } from '../client/index.js';
import { type AdminContext, runAdmin, usageExit, withAdminOptions } from './admin/admin-runner.js';
import { formatBytes, formatCount } from './admin/sizes.js';
import { renderTable } from './admin/table.js';

/** `mogile stats`: the cluster in numbers, over `mogile_stats` and `get_devices`. */
export function registerStatsCommand(program: Command): void {
  usageExit(
    withAdminOptions(
      program
        .command('stats')
        .description('files, bytes and copies per class, queue depths, devices by state'),
    ),
  ).action(runAdmin(showStats));
}

export interface StatsReport extends ClusterStats {
  readonly totals: { readonly files: number; readonly bytes: number };
  /** Devices by their status (`alive`, `drain`, …) and by what the monitor observed. */
  readonly devices: {
    readonly byStatus: Readonly<Record<string, number>>;
    readonly byObservedState: Readonly<Record<string, number>>;
  };
}

export async function collectStats(admin: MogileAdmin): Promise<StatsReport> {
  const [stats, devices] = await Promise.all([admin.clusterStats(), admin.getDevices()]);
  return {
    ...stats,
    totals: {
      files: stats.classes.reduce((sum, row) => sum + row.files, 0),
      bytes: stats.classes.reduce((sum, row) => sum + row.bytes, 0),
    },
    devices: {
      byStatus: countBy(devices, (dev) => dev.status),
      byObservedState: countBy(devices, (dev) => dev.observedState ?? 'unknown'),
    },
  };
}

export async function showStats(ctx: AdminContext): Promise<void> {
  const report = await collectStats(ctx.admin);
  await ctx.result(report, () => renderStats(report));
}

function countBy(
  devices: readonly DeviceInfo[],
  key: (dev: DeviceInfo) => string,
): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const dev of devices) counts[key(dev)] = (counts[key(dev)] ?? 0) + 1;
  return Object.fromEntries(Object.entries(counts).sort(([a], [b]) => a.localeCompare(b)));
}

function renderStats(report: StatsReport): string {
  const classes = [...report.classes].sort(
    (a, b) => a.domain.localeCompare(b.domain) || a.class.localeCompare(b.class),
  );
  const classTable = renderTable(
    [
      { header: 'domain' },
      { header: 'class' },
      { header: 'mindevcount', align: 'right' },
      { header: 'files', align: 'right' },
      { header: 'size', align: 'right' },
      { header: 'copies (devcount×files)' },
    ],
    [
      ...classes.map((row) => [
        row.domain,
        row.class,
        row.mindevcount,
        formatCount(row.files),
        formatBytes(row.bytes),
        row.copies.map((entry) => `${entry.devcount}×${formatCount(entry.files)}`).join(' ') || '-',
      ]),
      ['total', '', '', formatCount(report.totals.files), formatBytes(report.totals.bytes), ''],
    ],
  );
  const queueTable = renderTable(
    [
      { header: 'queue' },
      { header: 'new', align: 'right' },
      { header: 'overdue', align: 'right' },
      { header: 'deferred', align: 'right' },
      { header: 'manual', align: 'right' },
      { header: 'total', align: 'right' },
    ],
    Object.entries(report.queues).map(([name, depth]) => [
      name,
      formatCount(depth.new),
      formatCount(depth.overdue),
      formatCount(depth.deferred),
      formatCount(depth.manual),
      formatCount(depth.new + depth.overdue + depth.deferred + depth.manual),
    ]),
  );
  const deviceTable = renderTable(
    [{ header: 'devices' }, { header: 'count', align: 'right' }],
    [
      ...Object.entries(report.devices.byStatus).map(([state, count]) => [
        `status ${state}`,
        count,
      ]),
      ...Object.entries(report.devices.byObservedState).map(([state, count]) => [
        `observed ${state}`,
        count,
      ]),
    ],
  );
  return `Files by class\n${classTable}\nQueues\n${queueTable}\nDevices\n${deviceTable}`;
}
