import { existsSync, readdirSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { request } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';
import { MogileClient } from '../../src/client/index.js';
import { fidPath } from '../../src/protocol/fid-path.js';
import { startCluster, type TestCluster } from '../helpers/cluster.js';
import { waitFor } from '../helpers/wait-for.js';
import { removeDocroot, startNode } from '../storage/node-harness.js';
import { copyPath, eventually, fileDevids } from '../workers/cluster-files.js';
import { tempBytes, unique } from './fault-helpers.js';

/** docs/faults.md: a storage node killed with SIGKILL at the worst moments. */
describe('a storage node is killed', () => {
  let cluster: TestCluster | undefined;
  afterEach(async () => {
    await cluster?.stop();
    cluster = undefined;
  });

  it('mid-PUT: the upload fails, no key is bound, no partial file is left', async () => {
    cluster = await startCluster({ nodes: 2, devicesPerNode: 1, classes: { one: 1 } });
    const key = unique('mid-put');
    const open = await cluster.ok(`create_open domain=d&class=one&key=${key}`);
    const devid = Number(open['devid']);
    const node = cluster.deviceNode.get(devid)!;
    const deviceDir = join(node.docroot, `dev${devid}`);
    const path = new URL(open['path']!).pathname;
    const socket = connect(node.http.port, '127.0.0.1');
    const failed = new Promise<string>((resolve) => {
      socket.on('error', (error) => resolve(error.message));
      socket.on('close', () => resolve('closed'));
    });
    socket.write(`PUT ${path} HTTP/1.0\r\nContent-length: 4000000\r\n\r\n`);
    socket.write(Buffer.alloc(1_000_000, 'p'));
    await waitFor('bytes on the node', () => (tempBytes(deviceDir) > 0 ? true : undefined));
    await node.stop('SIGKILL');
    socket.write(Buffer.alloc(1_000_000, 'p'));
    expect(await failed).toBeTruthy();

    const reply = await cluster.request(
      `create_close domain=d&fid=${open['fid']}&devid=${devid}&path=${encodeURIComponent(open['path']!)}&key=${key}&size=4000000`,
    );
    expect(reply).toMatch(/^ERR size_verify_error /);
    expect(await cluster.request(`file_info domain=d&key=${key}`)).toMatch(/^ERR unknown_key/);
    // Restarted, the node sweeps the interrupted upload; the fid's path never existed.
    expect(existsSync(join(node.docroot, fidPath(devid, Number(open['fid']))))).toBe(false);
    const again = await startNode(node.docroot);
    try {
      expect(readdirSync(join(deviceDir, '.mogile-tmp'))).toEqual([]);
      expect(existsSync(join(node.docroot, fidPath(devid, Number(open['fid']))))).toBe(false);
    } finally {
      await again.stop();
    }
  });

  it('mid-replication: the copy goes elsewhere and no half copy is recorded', {
    timeout: 90_000,
  }, async () => {
    cluster = await startCluster({ nodes: 3, devicesPerNode: 1, classes: { two: 2 } });
    // Device 3 takes nothing at first, so the replicator's only target is the other node.
    await cluster.ok('set_state host=s3&device=3&state=readonly');
    const key = unique('mid-repl');
    const body = Buffer.alloc(64 * 1024 * 1024, 'r');
    const open = await cluster.ok(`create_open domain=d&class=two&key=${key}`);
    const source = Number(open['devid']);
    const target = source === 1 ? 2 : 1;
    const targetNode = cluster.deviceNode.get(target)!;
    const put = await request(open['path']!, { method: 'PUT', body });
    await put.body.dump();
    await cluster.ok(
      `create_close domain=d&fid=${open['fid']}&devid=${source}&path=${encodeURIComponent(open['path']!)}&key=${key}&size=${body.length}`,
    );
    const fid = Number(open['fid']);
    const targetDir = join(targetNode.docroot, `dev${target}`);
    // Killed while the copy streams in.
    await waitFor(
      'the copy in flight',
      () => (tempBytes(targetDir) > 0 ? true : undefined),
      20_000,
      1,
    );
    await targetNode.stop('SIGKILL');
    expect(await fileDevids(cluster, key)).toEqual([source]);
    expect(existsSync(copyPath(cluster, target, fid))).toBe(false);

    await cluster.ok('set_state host=s3&device=3&state=alive');
    // clear_cache: the tracker sees the state change and the dead node at once.
    await cluster.ok('clear_cache');
    const devids = await eventually(
      cluster,
      async () => {
        const found = await fileDevids(cluster!, key);
        return found.length === 2 ? found : undefined;
      },
      40_000,
    );
    expect(devids.sort()).toEqual([source, 3].sort());
    expect(existsSync(copyPath(cluster, 3, fid))).toBe(true);
    removeDocroot(join(targetNode.docroot, `dev${target}`, '.mogile-tmp'));
  });

  it('after create_close: the file is read from its other copy', async () => {
    cluster = await startCluster({ nodes: 2, devicesPerNode: 1, classes: { two: 2 } });
    const client = new MogileClient({ trackers: [cluster.trackerAddress], domain: 'd' });
    try {
      const key = unique('after-close');
      await client.store(key, Buffer.from('survives a dead node'), { class: 'two' });
      const devids = await eventually(cluster, async () => {
        const found = await fileDevids(cluster!, key);
        return found.length === 2 ? found : undefined;
      });
      await cluster.deviceNode.get(devids[0]!)!.stop('SIGKILL');
      for (let i = 0; i < 2; i++) {
        expect((await client.get(key)).toString()).toBe('survives a dead node');
      }
    } finally {
      await client.close();
    }
  });
});
