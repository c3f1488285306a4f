import { existsSync } from 'node:fs';
import { setTimeout as delay } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MogileClient } from '../../src/client/mogile-client.js';
import { startCluster, type TestCluster } from '../helpers/cluster.js';
import { copyBytes, copyPath, eventually, fileDevids, storeFile } from './cluster-files.js';

let cluster: TestCluster;
beforeAll(async () => {
  cluster = await startCluster({ nodes: 3, devicesPerNode: 2, classes: { two: 2, three: 3 } });
}, 60_000);
afterAll(async () => {
  await cluster?.stop();
});

const unique = (name: string) => `${name}-${process.pid}-${Math.random().toString(36).slice(2)}`;

/** Waits until the key has exactly `count` copies, and returns their devids. */
function copiesReach(key: string, count: number): Promise<number[]> {
  return eventually(cluster, async () => {
    const devids = await fileDevids(cluster, key);
    return devids.length === count ? devids : undefined;
  });
}

function nodesOf(devids: readonly number[]): Set<unknown> {
  return new Set(devids.map((devid) => cluster.deviceNode.get(devid)));
}

/** Copies of `fids` on any disk that no live file records: bytes nothing will ever remove. */
async function unrecordedCopies(fids: Iterable<number>): Promise<string[]> {
  const found: string[] = [];
  for (const fid of fids) {
    const onDisk = [...cluster.deviceNode.keys()].filter((devid) =>
      existsSync(copyPath(cluster, devid, fid)),
    );
    if (onDisk.length === 0) continue;
    const debug = await cluster.ok(`file_debug fid=${fid}`);
    const recorded = debug['fid_fid'] === undefined ? [] : (debug['devids'] ?? '').split(',');
    for (const devid of onDisk) {
      if (!recorded.includes(String(devid))) found.push(`fid ${fid} on dev${devid}`);
    }
  }
  return found;
}

describe('replication', () => {
  it('leaves no copy unrecorded when keys are deleted or renamed while they are copied', async () => {
    const client = new MogileClient({
      trackers: [cluster.trackerAddress],
      domain: 'd',
      maxIdleConnections: 8,
    });
    const fids = new Set<number>();
    const live: string[] = [];
    try {
      let next = 0;
      // Each key is deleted or renamed a few ms after its store, while the replicator,
      // woken by create_close, copies it.
      await Promise.all(
        Array.from({ length: 8 }, async () => {
          while (next < 240) {
            const i = next++;
            const key = unique(`raced-${i}`);
            fids.add((await client.store(key, Buffer.from(`raced ${i}`), { class: 'two' })).fid);
            await delay(i % 7);
            if (i % 3 === 0) {
              await client.delete(key);
            } else if (i % 3 === 1) {
              await client.rename(key, `${key}-renamed`);
              live.push(`${key}-renamed`);
            } else {
              live.push(key);
            }
          }
        }),
      );
    } finally {
      await client.close();
    }
    for (const key of live) await copiesReach(key, 2);
    // Once the delete worker is through, every byte of these fids on disk is recorded.
    await eventually(cluster, async () =>
      (await unrecordedCopies(fids)).length === 0 ? true : undefined,
    );
  }, 60_000);

  it('brings files to 2 and 3 copies on distinct hosts, bytes on every disk', async () => {
    const files = [
      { key: unique('two-a'), className: 'two', count: 2 },
      { key: unique('two-b'), className: 'two', count: 2 },
      { key: unique('three-a'), className: 'three', count: 3 },
      { key: unique('three-b'), className: 'three', count: 3 },
    ];
    const stored = await Promise.all(
      files.map(async (file) => {
        const body = `body of ${file.key}`;
        return { ...file, body, fid: await storeFile(cluster, file.className, file.key, body) };
      }),
    );
    for (const file of stored) {
      const devids = await copiesReach(file.key, file.count);
      expect(nodesOf(devids).size).toBe(file.count);
      for (const devid of devids) {
        expect(copyBytes(cluster, devid, file.fid)?.toString()).toBe(file.body);
      }
      const info = await cluster.ok(`file_info domain=d&key=${file.key}`);
      expect(info['devcount']).toBe(String(file.count));
    }
  }, 30_000);

  it('removes every copy of a deleted key', async () => {
    const key = unique('deleted');
    const fid = await storeFile(cluster, 'two', key, 'short-lived');
    const devids = await copiesReach(key, 2);
    await cluster.ok(`delete domain=d&key=${key}`);
    // The delete worker removes a copy from its disk before it forgets the copy's row, and
    // forgets the queue row last, so wait for the metadata to settle, then check the disks.
    const debug = await eventually(cluster, async () => {
      const reply = await cluster.ok(`file_debug fid=${fid}`);
      return reply['devids'] === undefined && reply['delqueue_fid'] === undefined
        ? reply
        : undefined;
    });
    expect(debug['fid_fid']).toBeUndefined();
    for (const devid of devids) expect(existsSync(copyPath(cluster, devid, fid))).toBe(false);
  }, 30_000);

  it('follows updateclass up to 3 copies and back down to 2', async () => {
    const key = unique('reclassed');
    const fid = await storeFile(cluster, 'two', key, 'moving between classes');
    await copiesReach(key, 2);
    await cluster.ok(`updateclass domain=d&key=${key}&class=three`);
    const three = await copiesReach(key, 3);
    expect(nodesOf(three).size).toBe(3);
    await cluster.ok(`updateclass domain=d&key=${key}&class=two`);
    const two = await copiesReach(key, 2);
    expect(nodesOf(two).size).toBe(2);
    // The surplus copy is gone from its disk too.
    const removed = three.filter((devid) => !two.includes(devid));
    await eventually(cluster, async () =>
      removed.every((devid) => copyBytes(cluster, devid, fid) === undefined) ? true : undefined,
    );
  }, 30_000);

  it('brings a class to its new mindevcount after update_class, without an fsck', async () => {
    await cluster.ok('create_class domain=d&class=growing&mindevcount=2');
    const keys = [unique('grow-a'), unique('grow-b')];
    for (const key of keys) await storeFile(cluster, 'growing', key, `body of ${key}`);
    for (const key of keys) await copiesReach(key, 2);
    await cluster.ok('update_class domain=d&class=growing&mindevcount=3');
    for (const key of keys) expect(nodesOf(await copiesReach(key, 3)).size).toBe(3);
    await cluster.ok('update_class domain=d&class=growing&mindevcount=2');
    for (const key of keys) expect(nodesOf(await copiesReach(key, 2)).size).toBe(2);
  }, 30_000);

  it('re-replicates the copies of a device marked dead', async () => {
    const key = unique('survivor');
    const fid = await storeFile(cluster, 'two', key, 'outlives its disk');
    const before = await copiesReach(key, 2);
    const lost = before[0]!;
    const host = [...cluster.nodes].indexOf(cluster.deviceNode.get(lost)!) + 1;
    await cluster.ok(`set_state host=s${host}&device=${lost}&state=dead`);
    const after = await eventually(cluster, async () => {
      const devids = await fileDevids(cluster, key);
      return devids.length === 2 && !devids.includes(lost) ? devids : undefined;
    });
    expect(nodesOf(after).size).toBe(2);
    for (const devid of after) {
      expect(copyBytes(cluster, devid, fid)?.toString()).toBe('outlives its disk');
    }
  }, 30_000);

  it('brings every file back to its count after a node is killed and its devices marked dead', async () => {
    const keys = Array.from({ length: 6 }, (_, i) => unique(`node-loss-${i}`));
    const fids = new Map<string, number>();
    for (const key of keys) fids.set(key, await storeFile(cluster, 'two', key, `body of ${key}`));
    const before = new Map<string, number[]>();
    for (const key of keys) before.set(key, await copiesReach(key, 2));
    // The node holding the most copies goes down hard.
    const victim = [...cluster.nodes].sort(
      (a, b) =>
        [...before.values()].flat().filter((devid) => cluster.deviceNode.get(devid) === b).length -
        [...before.values()].flat().filter((devid) => cluster.deviceNode.get(devid) === a).length,
    )[0]!;
    await victim.stop('SIGKILL');
    const host = cluster.nodes.indexOf(victim) + 1;
    const lost = [...cluster.deviceNode]
      .filter(([, node]) => node === victim)
      .map(([devid]) => devid);
    for (const devid of lost) {
      await cluster.ok(`set_state host=s${host}&device=${devid}&state=dead`);
    }
    for (const key of keys) {
      const after = await eventually(cluster, async () => {
        const devids = await fileDevids(cluster, key);
        return devids.length === 2 && devids.every((devid) => !lost.includes(devid))
          ? devids
          : undefined;
      });
      expect(nodesOf(after).size).toBe(2);
      for (const devid of after) {
        expect(copyBytes(cluster, devid, fids.get(key)!)?.toString()).toBe(`body of ${key}`);
      }
    }
  }, 60_000);
});
