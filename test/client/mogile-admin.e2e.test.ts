import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MogileAdmin, MogileClientError } from '../../src/index.js';
import { type SpawnedTracker, spawnTracker } from '../helpers/tracker-process.js';

let tracker: SpawnedTracker;
let admin: MogileAdmin;

beforeAll(async () => {
  tracker = await spawnTracker();
  admin = new MogileAdmin({ trackers: [`127.0.0.1:${tracker.port}`] });
});

afterAll(async () => {
  await admin?.close();
  await tracker?.stop();
});

async function code(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(MogileClientError);
    return (error as MogileClientError).code;
  }
  throw new Error('expected a rejection');
}

describe('MogileAdmin against a real tracker', () => {
  it('manages domains and classes with parsed replies', async () => {
    await admin.createDomain('adm-photos');
    expect(await code(admin.createDomain('adm-photos'))).toBe('domain_exists');
    const created = await admin.createClass('adm-photos', 'thumb', {
      mindevcount: 3,
      hashtype: 'MD5',
    });
    expect(created).toMatchObject({ name: 'thumb', mindevcount: 3, hashtype: 'MD5' });
    await admin.updateClass('adm-photos', 'thumb', { mindevcount: 1 });
    const domain = (await admin.getDomains()).find((entry) => entry.name === 'adm-photos');
    expect(domain?.classes.map((entry) => [entry.name, entry.mindevcount]).sort()).toEqual([
      ['default', 2],
      ['thumb', 1],
    ]);
    expect(await code(admin.deleteDomain('adm-photos'))).toBe('domain_has_classes');
    await admin.deleteClass('adm-photos', 'thumb');
    await admin.deleteDomain('adm-photos');
    expect(await code(admin.deleteDomain('adm-photos'))).toBe('domain_not_found');
  });

  it('manages hosts and devices', async () => {
    const hostid = await admin.createHost('adm-h1', {
      ip: '127.0.0.9',
      port: 7599,
      status: 'down',
    });
    expect(await admin.getHosts(hostid)).toEqual([
      expect.objectContaining({ hostid, hostname: 'adm-h1', hostip: '127.0.0.9', httpPort: 7599 }),
    ]);
    await admin.updateHost('adm-h1', { status: 'alive' });
    await admin.createDevice({ hostname: 'adm-h1', devid: 91 });
    expect(await code(admin.createDevice({ hostname: 'adm-h1', devid: 91 }))).toBe(
      'existing_devid',
    );
    await admin.setWeight('adm-h1', 91, 50);
    await admin.setState('adm-h1', 91, 'down');
    const [device] = await admin.getDevices(91);
    expect(device).toMatchObject({ devid: 91, hostid, status: 'down', weight: 50 });
    expect(await code(admin.deleteHost('adm-h1'))).toBe('host_not_empty');
    expect(await code(admin.setState('nope', 91, 'alive'))).toBe('host_mismatch');
  });

  it('reads and writes server settings, and clears caches', async () => {
    await admin.setServerSetting('memcache_ttl', '60');
    expect(await admin.serverSetting('memcache_ttl')).toBe('60');
    expect((await admin.serverSettings())['memcache_ttl']).toBe('60');
    expect(await code(admin.setServerSetting('schema_version', '1'))).toBe('not_writable');
    await admin.clearCache();
    expect(await admin.listFids(0, 10)).toEqual([]);
    expect(await admin.replicateNow()).toBeGreaterThanOrEqual(0);
  });

  it('validates options in the constructor, naming the option', () => {
    expect(() => new MogileAdmin({ trackers: [] })).toThrow(/trackers/);
    expect(() => new MogileAdmin({ trackers: ['127.0.0.1:1'], timeoutMs: -1 })).toThrow(
      /timeoutMs/,
    );
  });
});
