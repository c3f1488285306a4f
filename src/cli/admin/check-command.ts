import type { Command } from 'commander';
import { type DeviceInfo, type HostInfo, MogileAdmin } from '../../client/index.js';
import { AdminFailure } from './admin-errors.js';
import { type AdminContext, adminCommand, runAdmin } from './admin-runner.js';
import { formatGiB } from './sizes.js';
import { renderTable } from './table.js';

/** How long a storage node may take to answer one probe. */
const PROBE_TIMEOUT_MS = 5000;

interface TrackerCheck {
  readonly tracker: string;
  readonly ok: boolean;
  readonly error?: string;
}

interface HostCheck {
  readonly hostid: number;
  readonly hostname: string;
  readonly status: string;
  /** Undefined when the host was skipped for its status. */
  readonly ok: boolean | undefined;
  readonly error?: string;
}

interface DeviceCheck {
  readonly hostid: number;
  readonly devid: number;
  readonly ok: boolean;
  readonly error?: string;
  readonly totalMb?: number;
  readonly usedMb?: number;
  readonly availableMb?: number;
  readonly observedState?: string | undefined;
  readonly utilization?: string | undefined;
}

/**
 * `mogile admin check`, mogadm's: every tracker answers `get_hosts` and `get_devices`,
 * every alive host answers `GET /`, every device that is not dead serves its usage file
 * (`//devN/usage`, with mogadm's double slash). Exit 1 when anything failed.
 */
export function registerCheckCommand(admin: Command): void {
  adminCommand(admin, 'check', 'check that trackers, hosts and devices answer').action(
    runAdmin(check),
  );
}

async function check(ctx: AdminContext): Promise<void> {
  const trackers: TrackerCheck[] = [];
  let hosts: HostInfo[] | undefined;
  let devices: DeviceInfo[] | undefined;
  for (const tracker of ctx.trackers) {
    const one = new MogileAdmin({ trackers: [tracker] });
    try {
      [hosts, devices] = await Promise.all([one.getHosts(), one.getDevices()]);
      trackers.push({ tracker, ok: true });
    } catch (error) {
      trackers.push({ tracker, ok: false, error: (error as Error).message });
    } finally {
      await one.close();
    }
  }
  if (!hosts || !devices) {
    await report(ctx, trackers, [], []);
    throw new AdminFailure('no tracker answered');
  }
  const sortedHosts = [...hosts].sort((a, b) => a.hostid - b.hostid);
  const hostChecks = await Promise.all(sortedHosts.map(checkHost));
  const deviceChecks: DeviceCheck[] = [];
  for (const host of sortedHosts) {
    if (!hostChecks.find((entry) => entry.hostid === host.hostid)?.ok) continue;
    const onHost = devices
      .filter((dev) => dev.hostid === host.hostid && dev.status !== 'dead')
      .sort((a, b) => a.devid - b.devid);
    deviceChecks.push(...(await Promise.all(onHost.map((dev) => checkDevice(host, dev)))));
  }
  await report(ctx, trackers, hostChecks, deviceChecks);
  const failed =
    trackers.some((entry) => !entry.ok) ||
    hostChecks.some((entry) => entry.ok === false) ||
    deviceChecks.some((entry) => !entry.ok);
  if (failed) throw new AdminFailure('some checks failed');
}

function baseUrl(host: HostInfo): string {
  return `http://${host.hostip}:${host.httpPort ?? 7500}`;
}

async function checkHost(host: HostInfo): Promise<HostCheck> {
  const entry = { hostid: host.hostid, hostname: host.hostname, status: host.status };
  if (host.status !== 'alive') return { ...entry, ok: undefined };
  try {
    const response = await fetch(`${baseUrl(host)}/`, {
      signal: AbortSignal.timeout(PROBE_TIMEOUT_MS),
    });
    await response.arrayBuffer();
    return response.ok
      ? { ...entry, ok: true }
      : { ...entry, ok: false, error: `HTTP ${response.status}` };
  } catch (error) {
    return { ...entry, ok: false, error: causeOf(error) };
  }
}

async function checkDevice(host: HostInfo, dev: DeviceInfo): Promise<DeviceCheck> {
  const entry = {
    hostid: host.hostid,
    devid: dev.devid,
    observedState: dev.observedState,
    utilization: dev.utilization,
  };
  try {
    const response = await fetch(`${baseUrl(host)}//dev${dev.devid}/usage`, {
      signal: AbortSignal.timeout(PROBE_TIMEOUT_MS),
    });
    const text = await response.text();
    if (!response.ok) return { ...entry, ok: false, error: `HTTP ${response.status}` };
    // `key: value` lines, sizes in KiB (spec/storage-node.md §4).
    const fields = new Map(
      text.split(/\r?\n/).flatMap((line) => {
        const match = /^(\w+):\s*(.*)$/.exec(line);
        return match ? [[match[1]!, match[2]!] as const] : [];
      }),
    );
    const kib = (name: string) => {
      const value = Number(fields.get(name));
      return Number.isFinite(value) ? value / 1024 : 0;
    };
    return {
      ...entry,
      ok: true,
      totalMb: kib('total'),
      usedMb: kib('used'),
      availableMb: kib('available'),
    };
  } catch (error) {
    return { ...entry, ok: false, error: causeOf(error) };
  }
}

function causeOf(error: unknown): string {
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  return cause?.code ?? cause?.message ?? (error as Error).message;
}

async function report(
  ctx: AdminContext,
  trackers: TrackerCheck[],
  hosts: HostCheck[],
  devices: DeviceCheck[],
): Promise<void> {
  await ctx.result({ trackers, hosts, devices, total: totals(devices) }, () => {
    const out: string[] = ['Checking trackers...\n'];
    for (const entry of trackers)
      out.push(`  ${entry.tracker} ... ${entry.ok ? 'OK' : `FAILED (${entry.error})`}\n`);
    if (hosts.length === 0) return out.join('');
    out.push('\nChecking hosts...\n');
    for (const entry of hosts) {
      const result =
        entry.ok === undefined
          ? `skipped (status ${entry.status})`
          : entry.ok
            ? 'OK'
            : `FAILED (${entry.error})`;
      out.push(`  [${String(entry.hostid).padStart(2)}] ${entry.hostname} ... ${result}\n`);
    }
    out.push('\nChecking devices...\n');
    const sum = totals(devices);
    const rows = devices.map((dev) =>
      dev.ok
        ? [
            `[${String(dev.hostid).padStart(2)}]`,
            `dev${dev.devid}`,
            formatGiB(dev.totalMb),
            formatGiB(dev.usedMb),
            formatGiB(dev.availableMb),
            percentUsed(dev.availableMb, dev.totalMb),
            dev.observedState ?? '?',
            dev.utilization ?? '-',
          ]
        : [`[${String(dev.hostid).padStart(2)}]`, `dev${dev.devid}`, `FAILED (${dev.error})`],
    );
    rows.push([
      '',
      'total',
      formatGiB(sum.totalMb),
      formatGiB(sum.usedMb),
      formatGiB(sum.availableMb),
      percentUsed(sum.availableMb, sum.totalMb),
    ]);
    out.push(
      renderTable(
        [
          { header: 'host' },
          { header: 'device' },
          { header: 'size(G)', align: 'right' },
          { header: 'used(G)', align: 'right' },
          { header: 'free(G)', align: 'right' },
          { header: 'use%', align: 'right' },
          { header: 'ob state' },
          { header: 'I/O%', align: 'right' },
        ],
        rows,
        '  ',
      ),
    );
    return out.join('');
  });
}

function totals(devices: readonly DeviceCheck[]): {
  totalMb: number;
  usedMb: number;
  availableMb: number;
} {
  const ok = devices.filter((dev) => dev.ok);
  const sum = (pick: (dev: DeviceCheck) => number | undefined) =>
    ok.reduce((total, dev) => total + (pick(dev) ?? 0), 0);
  return {
    totalMb: sum((dev) => dev.totalMb),
    usedMb: sum((dev) => dev.usedMb),
    availableMb: sum((dev) => dev.availableMb),
  };
}

/** mogadm's use%: what is not available, so reserved blocks count as used. */
function percentUsed(availableMb: number | undefined, totalMb: number | undefined): string {
  if (availableMb === undefined || !totalMb) return '-';
  return `${(100 - (100 * availableMb) / totalMb).toFixed(2)}%`;
}
