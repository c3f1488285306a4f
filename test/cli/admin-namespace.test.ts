import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCluster, type TestCluster } from '../helpers/cluster.js';
import { type CliRun, runJson, runMogile } from '../helpers/mogile-cli.js';

let cluster: TestCluster;

beforeAll(async () => {
  cluster = await startCluster({ nodes: 2, devicesPerNode: 2 });
});

afterAll(async () => {
  await cluster?.stop();
});

const admin = (...args: string[]) => runMogile(cluster.trackerAddress, ['admin', ...args]);
const adminJson = <T>(...args: string[]) => runJson<T>(cluster.trackerAddress, ['admin', ...args]);

function expectFailure(run: CliRun, message: RegExp): void {
  expect(run.code).toBe(1);
  expect(run.stdout).toBe('');
  expect(run.stderr.split('\n').filter(Boolean)).toHaveLength(1);
  expect(run.stderr).toMatch(message);
}

// Each case spawns the CLI many times; a busy machine needs room.
describe('mogile admin domain and class', { timeout: 90_000 }, () => {
  it('add, list, modify and delete', async () => {
    expect((await admin('domain', 'add', 'ns-photos')).stdout).toBe('Domain ns-photos created.\n');
    const created = await adminJson<{ name: string; mindevcount: number; hashtype: string }>(
      'class',
      'add',
      'ns-photos',
      'thumbs',
      '--mindevcount',
      '3',
      '--hashtype',
      'MD5',
    );
    expect(created).toMatchObject({ name: 'thumbs', mindevcount: 3, hashtype: 'MD5' });

    // Changing only the policy keeps mindevcount (mogadm would reset it to 2).
    await admin('class', 'modify', 'ns-photos', 'thumbs', '--replpolicy', 'MultipleHosts(2)');
    const classes = await adminJson<
      { domain: string; name: string; mindevcount: number; replpolicy: string }[]
    >('class', 'list');
    expect(classes).toContainEqual(
      expect.objectContaining({
        domain: 'ns-photos',
        name: 'thumbs',
        mindevcount: 3,
        replpolicy: 'MultipleHosts(2)',
      }),
    );

    const text = (await admin('domain', 'list')).stdout;
    expect(text).toMatch(/^domain\s+class\s+mindevcount\s+replpolicy\s+hashtype\n-+/);
    expect(text).toMatch(
      /\nns-photos\s+default\s+2\s+MultipleHosts\(\)\s+NONE\n\s+thumbs\s+3\s+MultipleHosts\(2\)\s+MD5\n/,
    );

    const domains = await adminJson<{ name: string; classes: unknown[] }[]>('domain', 'list');
    expect(domains.find((entry) => entry.name === 'ns-photos')?.classes).toHaveLength(2);

    expectFailure(
      await admin('domain', 'delete', 'ns-photos'),
      /^mogile admin: domain "ns-photos": .*\[domain_has_classes\] \(delete its classes first\)\n$/,
    );
    expect((await admin('class', 'delete', 'ns-photos', 'thumbs')).code).toBe(0);
    expect((await admin('domain', 'delete', 'ns-photos')).code).toBe(0);
    expect(
      (await adminJson<{ name: string }[]>('domain', 'list')).map((d) => d.name),
    ).not.toContain('ns-photos');
  });

  it('report refusals in one line with exit 1', async () => {
    await admin('domain', 'add', 'ns-dup');
    expectFailure(
      await admin('domain', 'add', 'ns-dup'),
      /^mogile admin: domain "ns-dup": That domain already exists \[domain_exists\]\n$/,
    );
    expectFailure(
      await admin('class', 'modify', 'ns-dup', 'nope', '--mindevcount', '2'),
      /class "nope" in domain "ns-dup": Class not found \[class_not_found\]/,
    );
    expectFailure(await admin('class', 'delete', 'ns-dup', 'default'), /nodel_default_class/);
  });

  it('exit 2 on usage errors', async () => {
    const runs = await Promise.all([
      admin('class', 'add', 'd'),
      admin('class', 'add', 'd', 'c', '--mindevcount', 'x'),
      admin('class', 'modify', 'd', 'c'),
      admin('host', 'mark', 's1', 'sideways'),
      admin('device', 'mark', 's1', 'devx', 'alive'),
    ]);
    expect(runs.map((run) => run.code)).toEqual([2, 2, 2, 2, 2]);
    expect(runs[4]!.stderr).toMatch(/: "devx" is not a device id \(5 or dev5\)\n$/);
  });
});

describe('mogile admin host and device', { timeout: 90_000 }, () => {
  it('add, modify, mark, list and delete hosts', async () => {
    const added = await adminJson<{ hostid: number }>(
      'host',
      'add',
      'ns-h1',
      '--ip',
      '127.0.0.9',
      '--port',
      '7600',
    );
    expect(added.hostid).toBeGreaterThan(0);
    expectFailure(
      await admin('host', 'add', 'ns-h1', '--ip', '127.0.0.9'),
      /host "ns-h1": host already exists/,
    );
    await admin(
      'host',
      'modify',
      'ns-h1',
      '--getport',
      '7601',
      '--altip',
      '10.0.0.9',
      '--altmask',
      '10.0.0.0/8',
    );
    await admin('host', 'mark', 'ns-h1', 'readonly');
    const hosts = await adminJson<
      { hostname: string; status: string; httpGetPort: number; altip: string }[]
    >('host', 'list');
    expect(hosts.find((host) => host.hostname === 'ns-h1')).toMatchObject({
      status: 'readonly',
      httpGetPort: 7601,
      altip: '10.0.0.9',
    });
    const text = (await admin('host', 'list')).stdout;
    expect(text).toMatch(/^s1 \[1\]: alive\n {2}IP:\s+127\.0\.0\.1:\d+\n/);
    expect(text).toMatch(
      /ns-h1 \[\d+\]: readonly\n {2}IP:\s+127\.0\.0\.9:7600\n {2}GET port: 7601\n {2}Alt IP:\s+10\.0\.0\.9\n {2}Alt mask: 10\.0\.0\.0\/8\n/,
    );

    await admin('device', 'add', 'ns-h1', 'dev91', '--status', 'down');
    expectFailure(await admin('host', 'delete', 'ns-h1'), /host_not_empty/);
    expectFailure(await admin('device', 'add', 'ns-none', '92'), /no host named "ns-none"/);
    await admin('device', 'mark', 'ns-h1', '91', 'dead');
    expectFailure(
      await admin('device', 'mark', 'ns-h1', '91', 'alive'),
      /\[state_too_high\] \(mark the device down first, then alive\)/,
    );
  });

  it('list devices, modify weight and summarise space', async () => {
    await admin('device', 'modify', 's1', '2', '--weight', '50', '--status', 'drain');
    const devices = await adminJson<
      { devid: number; status: string; weight: number; mbTotal: number }[]
    >('device', 'list');
    expect(devices.find((dev) => dev.devid === 2)).toMatchObject({ status: 'drain', weight: 50 });
    expect(devices.find((dev) => dev.devid === 1)!.mbTotal).toBeGreaterThan(0);
    await admin('device', 'modify', 's1', '2', '--status', 'alive', '--weight', '100');

    const text = (await admin('device', 'list')).stdout;
    expect(text).toMatch(
      /^s1 \[1\]: alive\n {2}device\s+status\s+observed\s+weight\s+used\s+free\s+total\s+use%\n {2}-+/,
    );
    expect(text).toMatch(/\n {2}dev1\s+alive\s+writeable\s+100\s+[\d.]+ [KMGT]iB/);

    const summary = await adminJson<{ hostname: string; devices: number; totalMb: number }[]>(
      'device',
      'summary',
    );
    expect(summary.find((host) => host.hostname === 's1')).toMatchObject({ devices: 2 });
    const watched = await admin('device', 'summary', '--watch', '0.1', '--count', '2');
    expect(watched.code).toBe(0);
    // Two views into a pipe: the second has a fill rate.
    expect(watched.stdout.match(/^hostname\s+hostid/gm)).toHaveLength(2);
    expect(watched.stdout).toMatch(/\[[#.]{20}\]/);
    expect(watched.stdout).toMatch(/\d+(\.\d)? [KMGT]?i?B\/s/);
  });

  it('check answers like mogadm check', async () => {
    const text = await admin('check');
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(
      /^Checking trackers\.\.\.\n {2}127\.0\.0\.1:\d+ \.\.\. OK\n\nChecking hosts\.\.\.\n {2}\[ 1\] s1 \.\.\. OK\n/,
    );
    expect(text.stdout).toMatch(
      /\n {2}\[ 1\]\s+dev1\s+\d+\.\d{3}\s+\d+\.\d{3}\s+\d+\.\d{3}\s+\d+\.\d\d%\s+writeable/,
    );
    const json = await adminJson<{
      trackers: { ok: boolean }[];
      devices: { devid: number; ok: boolean }[];
    }>('check');
    expect(json.trackers).toEqual([expect.objectContaining({ ok: true })]);
    expect(json.devices.filter((dev) => dev.devid <= 4).every((dev) => dev.ok)).toBe(true);

    const down = await runMogile('127.0.0.1:1', ['admin', 'check']);
    expect(down.code).toBe(1);
    expect(down.stdout).toMatch(/127\.0\.0\.1:1 \.\.\. FAILED/);
    expect(down.stderr).toBe('mogile admin: no tracker answered\n');
  });
});

describe('mogile admin settings', { timeout: 90_000 }, () => {
  it('list and set', async () => {
    expect((await admin('settings', 'set', 'memcache_servers', '127.0.0.1:11211')).code).toBe(0);
    const settings = await adminJson<Record<string, string>>('settings', 'list');
    expect(settings['memcache_servers']).toBe('127.0.0.1:11211');
    expect((await admin('settings', 'list')).stdout).toMatch(
      /^\s*memcache_servers = 127\.0\.0\.1:11211$/m,
    );
    expectFailure(
      await admin('settings', 'set', 'schema_version', '99'),
      /setting "schema_version": not_writable \[not_writable\]/,
    );
  });

  it('global options work before the subcommand, and a dead tracker is one line', async () => {
    const run = await runMogile('127.0.0.1:1', [
      'admin',
      '--trackers',
      cluster.trackerAddress,
      '--json',
      'host',
      'list',
    ]);
    expect(JSON.parse(run.stdout)).toHaveLength(3);
    expectFailure(
      await runMogile('127.0.0.1:1', ['admin', 'domain', 'list']),
      /^mogile admin: couldn't connect to any tracker/,
    );
  });
});
