import { type Command, Option } from 'commander';
import type { DeviceInfo, DeviceState, HostInfo, MogileAdmin } from '../../client/index.js';
import { AdminFailure, AdminUsageError } from './admin-errors.js';
import { type AdminContext, adminCommand, integerOption, runAdmin } from './admin-runner.js';
import { findHost, sortHosts } from './host-commands.js';
import { formatBytes, formatMb, formatPercent } from './sizes.js';
import { renderTable } from './table.js';
import {
  addWatchOptions,
  isWatching,
  progressBar,
  ratePerSecond,
  type WatchOptions,
  watchLoop,
} from './watch.js';

export const DEVICE_STATES: readonly DeviceState[] = ['alive', 'dead', 'down', 'readonly', 'drain'];

/** `mogile admin device add|mark|modify|list|summary` (mogadm's `device`). */
export function registerDeviceCommands(admin: Command): void {
  const device = admin.command('device').description('storage devices');
  adminCommand(device, 'add <hostname> <devid>', 'add a device to a host')
    .addOption(
      new Option('--status <state>', 'initial state (default alive)').choices(DEVICE_STATES),
    )
    .action(
      runAdmin(async (ctx, hostname, devidText) => {
        const devid = parseDevid(devidText!);
        if (!(await findHost(ctx.admin, hostname!)))
          throw new AdminFailure(`no host named "${hostname}"`);
        const state = (ctx.options['status'] as DeviceState | undefined) ?? 'alive';
        await ctx.admin.createDevice({ hostname: hostname!, devid, state });
        await ctx.result(
          { hostname, devid, state },
          () => `Device dev${devid} added to ${hostname}.\n`,
        );
      }, deviceSubject),
    );
  adminCommand(
    device,
    'mark <hostname> <devid> <state>',
    `set a device's state (${DEVICE_STATES.join(', ')})`,
  ).action(
    runAdmin(async (ctx, hostname, devidText, state) => {
      const devid = parseDevid(devidText!);
      await ctx.admin.setState(hostname!, devid, deviceState(state!));
      await ctx.result({ hostname, devid, state }, () => `Device dev${devid} marked ${state}.\n`);
    }, deviceSubject),
  );
  adminCommand(device, 'modify <hostname> <devid>', "change a device's state or weight")
    .addOption(new Option('--status <state>', 'new state').choices(DEVICE_STATES))
    .option('--weight <n>', 'new weight (share of new files)', integerOption(0))
    .action(
      runAdmin(async (ctx, hostname, devidText) => {
        const devid = parseDevid(devidText!);
        const status = ctx.options['status'] as DeviceState | undefined;
        const weight = ctx.options['weight'] as number | undefined;
        if (status === undefined && weight === undefined) {
          throw new AdminUsageError('nothing to change: give --status or --weight');
        }
        if (status !== undefined) await ctx.admin.setState(hostname!, devid, status);
        if (weight !== undefined) await ctx.admin.setWeight(hostname!, devid, weight);
        await ctx.result(
          { hostname, devid, status, weight },
          () => `Device dev${devid} updated.\n`,
        );
      }, deviceSubject),
    );
  adminCommand(device, 'list', 'list devices by host')
    .option('--all', 'include dead devices')
    .action(
      runAdmin(async (ctx) => {
        const { hosts, devices } = await loadDevices(ctx.admin);
        const shown = ctx.options['all'] ? devices : devices.filter((dev) => dev.status !== 'dead');
        await ctx.result(shown, () => renderDeviceList(hosts, shown));
      }),
    );
  addWatchOptions(
    adminCommand(device, 'summary', 'space per host').option(
      '--status <list>',
      'count devices in these states',
      'alive,readonly',
    ),
  ).action(runAdmin(deviceSummary));
}

function deviceSubject(args: string[]): string {
  return `device ${args[1] ?? ''} on host ${JSON.stringify(args[0] ?? '')}`;
}

/** `5` or `dev5`, as mogadm accepts. */
export function parseDevid(text: string): number {
  const match = /^(?:dev)?(\d+)$/.exec(text);
  if (!match || Number(match[1]) < 1)
    throw new AdminUsageError(`"${text}" is not a device id (5 or dev5)`);
  return Number(match[1]);
}

function deviceState(text: string): DeviceState {
  if (!(DEVICE_STATES as readonly string[]).includes(text)) {
    throw new AdminUsageError(`unknown device state "${text}": use ${DEVICE_STATES.join(', ')}`);
  }
  return text as DeviceState;
}

export async function loadDevices(
  admin: MogileAdmin,
): Promise<{ hosts: HostInfo[]; devices: DeviceInfo[] }> {
  const [hosts, devices] = await Promise.all([admin.getHosts(), admin.getDevices()]);
  return { hosts: sortHosts(hosts), devices: [...devices].sort((a, b) => a.devid - b.devid) };
}

function renderDeviceList(hosts: readonly HostInfo[], devices: readonly DeviceInfo[]): string {
  if (hosts.length === 0) return 'No hosts.\n';
  return hosts
    .map((host) => {
      const rows = devices
        .filter((dev) => dev.hostid === host.hostid)
        .map((dev) => [
          `dev${dev.devid}`,
          dev.status,
          dev.observedState ?? '-',
          dev.weight ?? '-',
          formatMb(dev.mbUsed),
          formatMb(dev.mbFree ?? freeMb(dev)),
          formatMb(dev.mbTotal),
          formatPercent(dev.mbUsed, dev.mbTotal),
        ]);
      const table = renderTable(
        [
          { header: 'device' },
          { header: 'status' },
          { header: 'observed' },
          { header: 'weight', align: 'right' },
          { header: 'used', align: 'right' },
          { header: 'free', align: 'right' },
          { header: 'total', align: 'right' },
          { header: 'use%', align: 'right' },
        ],
        rows,
        '  ',
      );
      return `${host.hostname} [${host.hostid}]: ${host.status}\n${rows.length ? table : '  (no devices)\n'}`;
    })
    .join('\n');
}

function freeMb(dev: DeviceInfo): number | undefined {
  return dev.mbTotal === undefined || dev.mbUsed === undefined
    ? undefined
    : dev.mbTotal - dev.mbUsed;
}

interface HostSpace {
  readonly hostid: number;
  readonly hostname: string;
  readonly status: string;
  readonly devices: number;
  readonly usedMb: number;
  readonly freeMb: number;
  readonly totalMb: number;
}

async function deviceSummary(ctx: AdminContext): Promise<void> {
  const states = new Set(
    String(ctx.options['status'])
      .split(',')
      .map((state) => state.trim()),
  );
  const sample = async (): Promise<HostSpace[]> => {
    const { hosts, devices } = await loadDevices(ctx.admin);
    return hosts.map((host) => {
      const counted = devices.filter((dev) => dev.hostid === host.hostid && states.has(dev.status));
      const usedMb = sum(counted.map((dev) => dev.mbUsed ?? 0));
      const totalMb = sum(counted.map((dev) => dev.mbTotal ?? 0));
      return {
        hostid: host.hostid,
        hostname: host.hostname,
        status: host.status,
        devices: counted.length,
        usedMb,
        freeMb: totalMb - usedMb,
        totalMb,
      };
    });
  };
  const options = ctx.options as WatchOptions;
  if (!isWatching(options) || ctx.json) {
    const hosts = await sample();
    await ctx.result(hosts, () => renderSummary(hosts, undefined, 0, false));
    return;
  }
  await watchLoop(options, sample, (now, before, elapsed) =>
    renderSummary(now, before, elapsed, true),
  );
}

function renderSummary(
  hosts: readonly HostSpace[],
  previous: readonly HostSpace[] | undefined,
  elapsed: number,
  watching: boolean,
): string {
  const rows = hosts.map((host) => {
    const before = previous?.find((entry) => entry.hostid === host.hostid);
    const rate = ratePerSecond(host.usedMb, before?.usedMb, elapsed);
    const row: (string | number)[] = [
      host.hostname,
      host.hostid,
      host.status,
      host.devices,
      formatMb(host.usedMb),
      formatMb(host.freeMb),
      formatMb(host.totalMb),
      formatPercent(host.usedMb, host.totalMb),
    ];
    if (watching) {
      row.push(progressBar(host.totalMb > 0 ? host.usedMb / host.totalMb : 0, 20));
      row.push(rate === undefined ? '-' : `${formatBytes(rate * 1024 * 1024)}/s`);
    }
    return row;
  });
  const columns = [
    { header: 'hostname' },
    { header: 'hostid', align: 'right' as const },
    { header: 'status' },
    { header: 'devices', align: 'right' as const },
    { header: 'used', align: 'right' as const },
    { header: 'free', align: 'right' as const },
    { header: 'total', align: 'right' as const },
    { header: 'use%', align: 'right' as const },
    ...(watching ? [{ header: 'used' }, { header: 'change', align: 'right' as const }] : []),
  ];
  return renderTable(columns, rows);
}

function sum(values: readonly number[]): number {
  return values.reduce((total, value) => total + value, 0);
}
