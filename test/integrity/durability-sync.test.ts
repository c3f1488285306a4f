import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MogileClient, MogileClientError } from '../../src/client/index.js';
import { startCluster, type TestCluster } from '../helpers/cluster.js';

/**
 * `durability=sync` (docs/protocol-extensions.md): `create_close` of such a class answers
 * OK only once the class's copies exist, and `ERR not_replicated` (key bound, replication
 * going on) when they cannot exist before the reply must leave.
 */
describe('classes with durability=sync', () => {
  let cluster: TestCluster;
  let client: MogileClient;

  beforeAll(async () => {
    // Two hosts with one device each: two copies can exist, three never.
    cluster = await startCluster({ nodes: 2, devicesPerNode: 1, classes: { two: 2, three: 3 } });
    await cluster.ok('update_class domain=d&class=two&mindevcount=2&durability=sync');
    await cluster.ok('update_class domain=d&class=three&mindevcount=3&durability=sync');
    client = new MogileClient({ trackers: [cluster.trackerAddress], domain: cluster.domain });
  }, 60_000);
  afterAll(async () => {
    await client?.close();
    await cluster?.stop();
  });

  const devidsOf = async (key: string) =>
    (await cluster.ok(`file_info domain=d&key=${key}&devices=1`))['devids']!.split(',');

  it('shows the flag in get_domains', async () => {
    const domains = await cluster.ok('get_domains');
    const durability = (name: string) => {
      const [key] = Object.entries(domains).find(
        ([k, v]) => /^domain\d+class\d+name$/.test(k) && v === name,
      )!;
      return domains[key.replace(/name$/, 'durability')];
    };
    expect([durability('two'), durability('three'), durability('default')]).toEqual([
      'sync',
      'sync',
      'async',
    ]);
  });

  it('answers create_close only once the copies exist', async () => {
    for (let i = 0; i < 5; i++) {
      const key = `sync-ok-${i}`;
      const startedMs = performance.now();
      await client.store(key, Buffer.from(`bytes of ${key}`), { class: 'two' });
      const elapsedMs = performance.now() - startedMs;
      // Read at once: the second copy was recorded before the reply left.
      expect((await devidsOf(key)).sort()).toEqual(['1', '2']);
      expect(elapsedMs).toBeLessThan(2500);
    }
  });

  it('answers ERR not_replicated promptly when the count cannot be reached; the key stays bound', async () => {
    const startedMs = performance.now();
    const error = await client
      .store('sync-short', Buffer.from('three copies wanted'), { class: 'three' })
      .then(
        () => undefined,
        (caught: unknown) => caught,
      );
    const elapsedMs = performance.now() - startedMs;
    expect(error).toBeInstanceOf(MogileClientError);
    expect((error as MogileClientError).code).toBe('not_replicated');
    expect((error as MogileClientError).message).toMatch(/has not reached its class's copy count/);
    // Both disks hold a copy, so the policy asks for no more: no need to wait out the budget.
    expect(elapsedMs).toBeLessThan(2000);
    expect((await devidsOf('sync-short')).sort()).toEqual(['1', '2']);
    expect((await client.get('sync-short')).toString()).toBe('three copies wanted');
  });
});
