import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCluster, type TestCluster } from '../helpers/cluster.js';
import {
  copyBytes,
  copyPath,
  eventually,
  fileDevids,
  storeFile,
} from '../workers/cluster-files.js';

/**
 * Rebalance against a real tracker and three storage nodes of two devices each
 * (behaviour.md §10): a device is drained until it holds nothing, its files stay
 * readable elsewhere, and `rebalance_stop` gives back the device state it changed.
 */
let cluster: TestCluster;
beforeAll(async () => {
  cluster = await startCluster({ nodes: 3, devicesPerNode: 2, classes: { two: 2 } });
}, 60_000);
afterAll(async () => {
  await cluster?.stop();
});

const SOURCE = 1;
const unique = (name: string) => `${name}-${process.pid}-${Math.random().toString(36).slice(2)}`;

interface StoredFile {
  readonly key: string;
  readonly body: string;
  readonly fid: number;
}

async function deviceStatus(devid: number): Promise<string> {
  const devices = await cluster.ok('get_devices');
  for (const [name, value] of Object.entries(devices)) {
    const index = /^dev(\d+)_devid$/.exec(name)?.[1];
    if (index && value === String(devid)) return devices[`dev${index}_status`]!;
  }
  throw new Error(`no device ${devid}`);
}

async function setting(key: string): Promise<string> {
  return (await cluster.ok(`server_setting key=${key}`)).value ?? '';
}

function stateOf(reply: Record<string, string>): Record<string, string> {
  return Object.fromEntries(
    reply.state!.split(' ').map((token) => token.split('=') as [string, string]),
  );
}

/** Stores files until at least `count` of them have a copy on the source device. */
async function filesOnSource(count: number): Promise<StoredFile[]> {
  const files: StoredFile[] = [];
  let onSource = 0;
  while (onSource < count) {
    const key = unique('rb');
    const body = `rebalance body ${key}`;
    const fid = await storeFile(cluster, 'two', key, body);
    const devids = await eventually(cluster, async () => {
      const found = await fileDevids(cluster, key);
      return found.length === 2 ? found : undefined;
    });
    if (devids.includes(SOURCE)) onSource += 1;
    files.push({ key, body, fid });
  }
  return files;
}

describe('rebalance', () => {
  it('tests a policy: sources and destinations', async () => {
    // The policy value is URL-encoded, as mogadm sends it.
    await cluster.ok(`rebalance_set_policy policy=${encodeURIComponent(`from_devices=${SOURCE}`)}`);
    const test = await cluster.ok('rebalance_test');
    expect(test.sdevs).toBe(String(SOURCE));
    expect(test.ddevs!.split(',').map(Number).sort()).toEqual([2, 3, 4, 5, 6]);
  });

  it('stops on request and gives the source its state back', async () => {
    const files = await filesOnSource(3);
    // One fid per tick, so the run is still going when the stop arrives.
    await cluster.ok('set_server_setting key=queue_rate_for_rebal&value=1');
    await cluster.ok('set_server_setting key=queue_size_for_rebal&value=1');
    const started = stateOf(await cluster.ok('rebalance_start'));
    expect(started.source_devs).toBe(String(SOURCE));
    await eventually(cluster, async () =>
      (await deviceStatus(SOURCE)) === 'drain' ? true : undefined,
    );
    await cluster.ok('rebalance_stop');
    await eventually(cluster, async () =>
      (await setting('rebal_host')) === '' ? true : undefined,
    );
    expect(await deviceStatus(SOURCE)).toBe('alive');
    const state = stateOf(await cluster.ok('rebalance_status'));
    expect(Number(state.time_stopped)).toBeGreaterThan(0);
    expect(state.time_finished).toBe('0');
    for (const file of files) {
      expect((await fileDevids(cluster, file.key)).length).toBeGreaterThanOrEqual(2);
    }
  }, 45_000);

  it('drains a device until it is empty; its files stay readable elsewhere', async () => {
    const files = await filesOnSource(2);
    await cluster.ok('set_server_setting key=queue_rate_for_rebal&value=500');
    await cluster.ok('set_server_setting key=queue_size_for_rebal&value=10000');
    // Continues the stopped run: same state, same source.
    await cluster.ok('rebalance_start');
    await eventually(
      cluster,
      async () => {
        const state = stateOf(await cluster.ok('rebalance_status'));
        return state.time_finished !== '0' && (await setting('rebal_host')) === ''
          ? state
          : undefined;
      },
      30_000,
    );
    const state = stateOf(await cluster.ok('rebalance_status'));
    expect(state.completed_devs).toBe(String(SOURCE));
    // Moves still queued finish shortly after the last fid was queued.
    for (const file of files) {
      const devids = await eventually(cluster, async () => {
        const found = await fileDevids(cluster, file.key);
        return found.length === 2 && !found.includes(SOURCE) ? found : undefined;
      });
      expect(existsSync(copyPath(cluster, SOURCE, file.fid))).toBe(false);
      for (const devid of devids)
        expect(copyBytes(cluster, devid, file.fid)?.toString()).toBe(file.body);
    }
    // Finished sources go back to alive (leave_in_drain_mode is off).
    expect(await deviceStatus(SOURCE)).toBe('alive');
  }, 45_000);
});
