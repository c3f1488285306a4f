import { existsSync } from 'node:fs';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MogileClient } from '../../src/client/index.js';
import { startCluster, type TestCluster } from '../helpers/cluster.js';
import { copyPath, eventually, fileDevids } from '../workers/cluster-files.js';

const SECRET = 'cluster-test-secret-0123456789';

/**
 * docs/security.md: with one secret on tracker and nodes, clients use the signed URLs as
 * given; the monitor, replication and deletion sign their own requests; unsigned writes
 * bounce.
 */
describe('a cluster with signed storage URLs', () => {
  let cluster: TestCluster;
  let client: MogileClient;

  beforeAll(async () => {
    // Reads are signed too, so the monitor's and replicator's GETs prove they sign.
    cluster = await startCluster({
      nodes: 2,
      devicesPerNode: 1,
      classes: { two: 2 },
      tracker: { args: ['--secret', SECRET, '--secret-expiry', '120'] },
      nodeArgs: ['--secret', SECRET, '--secret-applies-to-get'],
    });
    client = new MogileClient({ trackers: [cluster.trackerAddress], domain: cluster.domain });
  }, 60_000);
  afterAll(async () => {
    await client?.close();
    await cluster?.stop();
  });

  it('hands out signed upload and read URLs that an unchanged client uses as given', async () => {
    const open = await cluster.ok('create_open domain=d&class=two&key=signed-1');
    const path = open['path']!;
    expect(path).toMatch(/\.fid\?expires=\d+&scope=w&signature=[\w-]{43}$/);
    const expires = Number(/expires=(\d+)/.exec(path)![1]);
    expect(expires - Date.now() / 1000).toBeGreaterThan(100);
    expect(expires - Date.now() / 1000).toBeLessThanOrEqual(121);

    // Without its signature the same URL is refused, and nothing is written.
    const unsigned = path.split('?')[0]!;
    const refused = await request(unsigned, { method: 'PUT', body: 'sneaky' });
    await refused.body.dump();
    expect(refused.statusCode).toBe(403);
    expect(existsSync(copyPath(cluster, Number(open['devid']), Number(open['fid'])))).toBe(false);

    const put = await request(path, { method: 'PUT', body: 'hello signed' });
    await put.body.dump();
    expect(put.statusCode).toBe(200);
    // create_close accepts the path with or without its signature: the path must match.
    await cluster.ok(
      `create_close domain=d&fid=${open['fid']}&devid=${open['devid']}` +
        `&path=${encodeURIComponent(unsigned)}&key=signed-1&size=12`,
    );
    const paths = await cluster.ok('get_paths domain=d&key=signed-1&noverify=1');
    expect(paths['path1']).toMatch(/\.fid\?expires=\d+&scope=r&signature=[\w-]{43}$/);
    const read = await request(paths['path1']!);
    expect(await read.body.text()).toBe('hello signed');
    const bare = await request(paths['path1']!.split('?')[0]!);
    await bare.body.dump();
    expect(bare.statusCode).toBe(403);
    // A read URL cannot delete.
    const deleted = await request(paths['path1']!, { method: 'DELETE' });
    await deleted.body.dump();
    expect(deleted.statusCode).toBe(403);
  });

  it('stores, replicates, reads and deletes through the client; workers sign', async () => {
    const stored = await client.store('signed-2', Buffer.from('replicated and signed'), {
      class: 'two',
    });
    const devids = await eventually(cluster, async () => {
      const found = await fileDevids(cluster, 'signed-2');
      return found.length === 2 ? found : undefined;
    });
    // get_paths verifies with HEAD (signed by the tracker) when noverify is off.
    const verified = await cluster.ok('get_paths domain=d&key=signed-2');
    expect(Number(verified['paths'])).toBeGreaterThanOrEqual(1);
    const body = await client.get('signed-2');
    expect((body as Buffer).toString()).toBe('replicated and signed');
    await client.delete('signed-2');
    await eventually(cluster, async () =>
      devids.every((devid) => !existsSync(copyPath(cluster, devid, stored.fid))) ? true : undefined,
    );
  });
});
