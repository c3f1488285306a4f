import { rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCluster, type TestCluster } from '../helpers/cluster.js';
import { runJson, runMogile } from '../helpers/mogile-cli.js';
import { copyPath, eventually, fileDevids, storeFile } from '../workers/cluster-files.js';

/** Long work through the CLI: fsck and rebalance, their --watch views, and `mogile stats`. */
let cluster: TestCluster;
const fids: number[] = [];

beforeAll(async () => {
  cluster = await startCluster({ nodes: 2, devicesPerNode: 1, classes: { two: 2 } });
  for (let i = 0; i < 3; i++) {
    const key = `jobs-${process.pid}-${i}`;
    fids.push(await storeFile(cluster, 'two', key, `job body ${i} `.repeat(100)));
    await eventually(cluster, async () =>
      (await fileDevids(cluster, key)).length === 2 ? true : undefined,
    );
  }
}, 60_000);

afterAll(async () => {
  await cluster?.stop();
});

const admin = (...args: string[]) => runMogile(cluster.trackerAddress, ['admin', ...args]);
const adminJson = <T>(...args: string[]) => runJson<T>(cluster.trackerAddress, ['admin', ...args]);

interface StatsJson {
  classes: {
    domain: string;
    class: string;
    files: number;
    bytes: number;
    copies: { devcount: number; files: number }[];
  }[];
  totals: { files: number; bytes: number };
  queues: Record<string, { new: number; overdue: number; deferred: number; manual: number }>;
  devices: { byStatus: Record<string, number>; byObservedState: Record<string, number> };
}

// Each case spawns the CLI many times; a busy machine needs room.
describe('mogile stats', { timeout: 90_000 }, () => {
  it('counts files, bytes and copies per class, queues and devices', async () => {
    const stats = await runJson<StatsJson>(cluster.trackerAddress, ['stats']);
    expect(stats.classes).toContainEqual({
      domain: 'd',
      class: 'two',
      mindevcount: 2,
      files: 3,
      bytes: 3 * 1100,
      copies: [{ devcount: 2, files: 3 }],
    });
    expect(stats.classes.find((row) => row.class === 'default')).toMatchObject({
      files: 0,
      copies: [],
    });
    expect(stats.totals).toEqual({ files: 3, bytes: 3300 });
    expect(Object.keys(stats.queues)).toEqual(['replicate', 'delete', 'fsck', 'rebalance']);
    expect(stats.queues['fsck']).toEqual({ new: 0, overdue: 0, deferred: 0, manual: 0 });
    expect(stats.devices).toEqual({ byStatus: { alive: 2 }, byObservedState: { writeable: 2 } });

    const text = await runMogile(cluster.trackerAddress, ['admin', 'stats']);
    expect(text.stdout).toMatch(/^Files by class\ndomain\s+class\s+mindevcount\s+files\s+size/);
    expect(text.stdout).toMatch(/\nd\s+two\s+2\s+3\s+3\.2 KiB\s+2×3\n/);
    expect(text.stdout).toMatch(
      /\nQueues\nqueue\s+new\s+overdue\s+deferred\s+manual\s+total\n-+.*\nreplicate\s+/,
    );
    expect(text.stdout).toMatch(/\nDevices\n.*\nstatus alive\s+2\nobserved writeable\s+2\n$/s);
  });
});

describe('mogile admin fsck', { timeout: 90_000 }, () => {
  it('finds a missing copy and shows its progress and log', async () => {
    rmSync(copyPath(cluster, 1, fids[0]!));
    const classWithoutDomain = await admin('fsck', 'start', '--class', 'two');
    expect(classWithoutDomain.code).toBe(1);
    expect(classWithoutDomain.stderr).toBe('mogile admin: No domain provided [no_domain]\n');
    expect((await admin('fsck', 'reset')).stdout).toBe('fsck reset\n');
    expect((await admin('fsck', 'start', '--domain', 'd', '--class', 'two')).stdout).toBe(
      'fsck started\n',
    );
    await eventually(cluster, async () => {
      const status = await cluster.ok('fsck_status');
      return Number(status['max_fid_checked']) >= Number(status['end_fid']) && status['num_MISS']
        ? true
        : undefined;
    });
    const status = await adminJson<{
      running: boolean;
      maxFidChecked: number;
      endFid: number;
      eventCounts: Record<string, number>;
      targets: Record<string, string>;
    }>('fsck', 'status');
    expect(status.maxFidChecked).toBe(status.endFid);
    expect(status.eventCounts['MISS']).toBe(1);
    expect(status.targets).toMatchObject({ dmid: expect.any(String), classid: expect.any(String) });

    const watched = await admin('fsck', 'status', '--watch', '0.1', '--count', '2');
    expect(watched.stdout.match(/^Running:/gm)).toHaveLength(2);
    expect(watched.stdout).toMatch(/Progress: +\[#{30}\] 100\.0% {2}fid \d+ of \d+\n/);
    expect(watched.stdout).toMatch(/\nevent\s+count\n-+\s+-+\nMISS\s+1\n/);

    const log = await adminJson<{ fid: number; evcode: string; devid: number }[]>(
      'fsck',
      'printlog',
    );
    expect(log).toContainEqual(expect.objectContaining({ fid: fids[0], evcode: 'MISS', devid: 1 }));
    expect((await admin('fsck', 'printlog')).stdout).toMatch(
      /^logid\s+time\s+event\s+fid\s+devid\n[- ]+\n.*MISS/s,
    );

    expect((await admin('fsck', 'stop')).stdout).toBe('fsck stopped\n');
    expect((await admin('fsck', 'clearlog')).code).toBe(0);
    expect(await adminJson('fsck', 'printlog')).toEqual([]);
    const reset = await admin('fsck', 'reset', '--policy-only', '--startpos', '2');
    expect(reset.code).toBe(0);
    expect(await adminJson('fsck', 'status')).toMatchObject({ policyOnly: true, maxFidChecked: 2 });
  });
});

describe('mogile admin rebalance', { timeout: 90_000 }, () => {
  it('sets a policy, tests, starts, watches and stops', async () => {
    const none = await admin('rebalance', 'status');
    expect(none.code).toBe(1);
    expect(none.stderr).toMatch(/^mogile admin: No available rebalance status \[no_rebal_state\]/);

    await admin(
      'rebalance',
      'policy',
      '--options=from_devices=1 to_devices=2 leave_in_drain_mode=0',
    );
    expect((await admin('rebalance', 'policy')).stdout).toBe(
      'from_devices=1 to_devices=2 leave_in_drain_mode=0\n',
    );
    const tested = await adminJson<{ sourceDevids: number[]; destinationDevids: number[] }>(
      'rebalance',
      'test',
    );
    expect(tested).toMatchObject({ sourceDevids: [1], destinationDevids: [2] });
    expect((await admin('rebalance', 'test')).stdout).toMatch(
      /^Policy: from_devices=1.*\n\nSource devices:\n {2}- dev1\nDestination devices:\n {2}- dev2\n$/,
    );
    const bad = await admin('rebalance', 'policy', '--options=from_galaxy=1');
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/Invalid setting from_galaxy \[bad_rebal_pol\]/);

    expect((await admin('rebalance', 'start')).stdout).toBe('Rebalance started.\n');

    const status = await adminJson<{ running: boolean; state: Record<string, string> }>(
      'rebalance',
      'status',
    );
    // With nothing to move the run may already be over: running or not, the state stays.
    expect(typeof status.running).toBe('boolean');
    const { source_devs, completed_devs, sdev_current } = status.state;
    expect(`${source_devs},${completed_devs},${sdev_current}`).toMatch(/\b1\b/);
    const watched = await admin('rebalance', 'status', '--watch', '0.1', '--count', '2');
    expect(watched.stdout.match(/^Running: +(yes|no)/gm)).toHaveLength(2);
    expect(watched.stdout).toMatch(/Devices: +\[[#.]{30}\] +\d+\.\d% {2}\d of 1 done\n/);
    expect(watched.stdout).toMatch(/Rate: +-?\d+\.\d files\/s/);
    expect(Object.keys(await adminJson('rebalance', 'settings'))).toContain('rebal_policy');

    const stop = await admin('rebalance', 'stop');
    if (stop.code !== 0) expect(stop.stderr).toMatch(/\[rebal_not_started\]/);
    await eventually(cluster, async () =>
      (await cluster.ok('server_setting key=rebal_host'))['value'] ? undefined : true,
    );
    expect((await admin('rebalance', 'reset')).stdout).toBe('Rebalance state cleared.\n');
  });
});
