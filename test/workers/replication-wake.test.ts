import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { WorkerClock } from '../../src/workers/runner.js';
import { type CommandHarness, commandHarness } from '../helpers/command-harness.js';
import { waitFor } from '../helpers/wait-for.js';
import {
  makeDocroot,
  type NodeProcess,
  removeDocroot,
  startNode,
} from '../storage/node-harness.js';

/**
 * Pauses of up to 100 ms pass as usual; longer ones (the workers' idle polls) last until a
 * wake ends them, so whatever the replicator does after its first pass, a wake started.
 */
const wokenOnly: WorkerClock = {
  now: () => performance.now(),
  sleep(ms, signal) {
    return new Promise((resolve) => {
      if (signal.aborted) return resolve();
      const timer = ms <= 100 ? setTimeout(resolve, ms) : undefined;
      signal.addEventListener(
        'abort',
        () => {
          clearTimeout(timer);
          resolve();
        },
        { once: true },
      );
    });
  },
};

describe('create_close and the replicator', () => {
  let harness: CommandHarness;
  const nodes: NodeProcess[] = [];

  beforeAll(async () => {
    nodes.push(await startNode(makeDocroot([1])), await startNode(makeDocroot([2])));
    harness = await commandHarness({ workerClock: wokenOnly });
    const { meta, cluster, monitor } = harness.services;
    await harness.ok('create_domain domain=d');
    await harness.ok('create_class domain=d&class=two&mindevcount=2');
    for (const [index, node] of nodes.entries()) {
      const host = await meta.createHost(`s${index + 1}`, '127.0.0.1', {
        status: 'alive',
        httpPort: node.http.port,
      });
      await meta.createDevice({
        devid: index + 1,
        hostid: host.hostid,
        status: 'alive',
        weight: 100,
      });
    }
    await cluster.refresh();
    await monitor.runRound();
    await cluster.refresh();
  }, 30_000);

  afterAll(async () => {
    await harness?.close();
    for (const node of nodes) {
      await node.stop();
      removeDocroot(node.docroot);
    }
  });

  it('starts the copies of a stored file without waiting for the next poll', async () => {
    const body = 'bytes that want two copies';
    const open = await harness.ok('create_open domain=d&class=two&key=k');
    const put = await request(open['path']!, { method: 'PUT', body });
    await put.body.dump();
    expect(put.statusCode).toBe(200);
    await harness.ok(
      `create_close domain=d&key=k&fid=${open['fid']}&devid=${open['devid']}` +
        `&path=${encodeURIComponent(open['path']!)}&size=${body.length}`,
    );
    // The workers' idle pauses never end on their own here: only the wake can copy it.
    const devids = await waitFor('the second copy', async () => {
      const info = await harness.ok('file_info domain=d&key=k&devices=1');
      return info['devids']?.split(',').length === 2 ? info['devids'] : undefined;
    });
    expect(devids.split(',').sort()).toEqual(['1', '2']);
  });
});
