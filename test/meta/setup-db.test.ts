import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { MetaSchemaError, openMetaStore } from '../../src/meta/index.js';
import { setupDatabase } from '../../src/meta/setup-database.js';
import { type Backend, backends } from '../helpers/meta-backends.js';

/**
 * Turns a fresh schema-17 database into a schema-15-like one, the way older mogdbsetup
 * left them: no checksum table, no class.hashtype, no file_to_queue.arg, narrow settings
 * and sizes, status enums without readonly/drain, and none of mogile's own tables.
 */
function downgradeStatements(backend: Backend): string[] {
  const common = [
    'DROP TABLE checksum',
    'DROP TABLE mogile_lease',
    'DROP TABLE mogile_class_option',
    'DROP TABLE mogile_counter',
    'ALTER TABLE class DROP COLUMN hashtype',
    'ALTER TABLE file_to_queue DROP COLUMN arg',
    'ALTER TABLE host DROP COLUMN http_get_port',
    "UPDATE server_settings SET value = '15' WHERE field = 'schema_version'",
  ];
  if (backend.name === 'mysql') {
    return [
      ...common,
      "ALTER TABLE host MODIFY status ENUM('alive','dead','down')",
      "ALTER TABLE device MODIFY status ENUM('alive','dead','down')",
      'ALTER TABLE server_settings MODIFY value VARCHAR(255)',
      'ALTER TABLE device MODIFY mb_total MEDIUMINT UNSIGNED, MODIFY mb_used MEDIUMINT UNSIGNED',
    ];
  }
  if (backend.name === 'postgres') {
    return [
      ...common,
      'ALTER TABLE host DROP CONSTRAINT host_status_check',
      "ALTER TABLE host ADD CHECK (status IN ('alive', 'dead', 'down'))",
      'ALTER TABLE device DROP CONSTRAINT device_status_check',
      "ALTER TABLE device ADD CHECK (status IN ('alive', 'dead', 'down'))",
      'ALTER TABLE server_settings ALTER COLUMN value TYPE VARCHAR(255)',
      'ALTER TABLE device ALTER COLUMN mb_total TYPE SMALLINT',
    ];
  }
  return common;
}

for (const backend of backends()) {
  describe(`setup-db on ${backend.name}`, () => {
    const cleanups: (() => Promise<void>)[] = [];
    afterEach(async () => {
      for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
    });

    async function freshUrl(): Promise<string> {
      const database = await backend.freshDatabase();
      cleanups.push(database.drop);
      return database.url;
    }

    it('creates schema 17 in an empty database, then finds it up to date', async () => {
      const url = await freshUrl();
      const created = await setupDatabase(url);
      expect(created).toMatchObject({ state: 'empty', outcome: 'created', appliedSteps: [] });
      const again = await setupDatabase(url);
      expect(again).toMatchObject({ state: 'current', outcome: 'up_to_date', pendingSteps: [] });
      const store = await openMetaStore(url);
      cleanups.push(() => store.close());
      expect(await store.getSetting('schema_version')).toBe('17');
      expect(await store.acquireLease('mgfs:reaper', 'me', 1, 10)).toBe(true);
    });

    it('adds mogile_class_option when a tracker opens a database without it', async () => {
      const url = await freshUrl();
      await setupDatabase(url);
      await backend.exec(url, ['DROP TABLE mogile_class_option']);
      const store = await openMetaStore(url);
      cleanups.push(() => store.close());
      const { dmid } = await store.createDomain('d');
      await store.createClass(dmid, 'safe', { durability: 'sync' });
      expect(await store.findClass(dmid, 'safe')).toMatchObject({ durability: 'sync' });
    });

    it('upgrades an older MogileFS database in place, keeping its data', async () => {
      const url = await freshUrl();
      await setupDatabase(url);
      const seed = await openMetaStore(url);
      const { dmid } = await seed.createDomain('photos');
      const { classid } = await seed.createClass(dmid, 'thumbs', { mindevcount: 2 });
      const host = await seed.createHost('h1', '10.0.0.1', { status: 'alive', httpPort: 7500 });
      await seed.createDevice({ devid: 3, hostid: host.hostid, status: 'alive', weight: 100 });
      await seed.setSetting('enable_rebalance', '1');
      await seed.close();
      await backend.exec(url, [
        ...downgradeStatements(backend),
        `INSERT INTO file (fid, dmid, dkey, length, classid, devcount)
         VALUES (42, ${dmid}, 'cat.jpg', 5, ${classid}, 1)`,
        'INSERT INTO file_on (fid, devid) VALUES (42, 3)',
      ]);
      await expect(openMetaStore(url)).rejects.toThrow(/version 15.*mogile setup-db/);

      const upgraded = await setupDatabase(url);
      expect(upgraded).toMatchObject({ state: 'old', version: 15, outcome: 'upgraded' });
      expect(upgraded.missingTables).toEqual([
        'checksum',
        'mogile_counter',
        'mogile_lease',
        'mogile_class_option',
      ]);
      expect(upgraded.appliedSteps).toEqual(
        expect.arrayContaining(['add class.hashtype', 'add file_to_queue.arg']),
      );
      if (backend.name !== 'sqlite') {
        expect(upgraded.appliedSteps).toEqual([
          'add host.http_get_port',
          'allow device status readonly',
          'allow device status drain',
          'widen server_settings.value to TEXT',
          'add file_to_queue.arg',
          'widen device.mb_total and mb_used to INT',
          'add class.hashtype',
          'allow host status readonly',
        ]);
      }

      const store = await openMetaStore(url);
      cleanups.push(() => store.close());
      expect(await store.getSetting('schema_version')).toBe('17');
      expect(await store.getSetting('enable_rebalance')).toBe('1');
      expect(await store.findFile(dmid, 'cat.jpg')).toMatchObject({ fid: 42, length: 5 });
      expect(await store.fileDevids(42)).toEqual([3]);
      // What the new columns and values are for works now.
      await store.updateClass(dmid, classid, { hashtype: 1 });
      expect(await store.findClass(dmid, 'thumbs')).toMatchObject({ hashtype: 1 });
      await store.updateHost(host.hostid, { status: 'readonly', httpGetPort: 7600 });
      await store.updateDevice(3, { status: 'drain' });
      await store.recordDeviceUsage(3, { mbTotal: 20_000_000, mbUsed: 5, asofSeconds: 9 });
      expect((await store.listDevices())[0]).toMatchObject({
        status: 'drain',
        mbTotal: 20_000_000,
      });
      await store.setSetting('long', 'x'.repeat(1000));

      const again = await setupDatabase(url);
      expect(again).toMatchObject({ outcome: 'up_to_date', appliedSteps: [], pendingSteps: [] });
    });

    it('refuses a newer schema and a database that is not MogileFS', async () => {
      const newer = await freshUrl();
      await setupDatabase(newer);
      await backend.exec(newer, [
        "UPDATE server_settings SET value = '18' WHERE field = 'schema_version'",
      ]);
      await expect(setupDatabase(newer)).rejects.toThrow(/version 18, newer than 17/);
      const foreign = await freshUrl();
      await backend.exec(foreign, ['CREATE TABLE invoices (id INTEGER PRIMARY KEY)']);
      await expect(setupDatabase(foreign)).rejects.toBeInstanceOf(MetaSchemaError);
    });
  });
}

const MAIN = resolve(import.meta.dirname, '..', '..', 'dist', 'cli', 'main.js');

describe.skipIf(!existsSync(MAIN))('mogile setup-db', () => {
  it('asks before changing anything, and goes ahead with --yes', async () => {
    const database = await backends()[0]!.freshDatabase();
    try {
      const run = (...args: string[]) =>
        spawnSync(process.execPath, [MAIN, 'setup-db', '--db', database.url, ...args], {
          encoding: 'utf8',
          stdio: ['ignore', 'pipe', 'pipe'],
        });
      const refused = run();
      expect(refused.status).toBe(1);
      expect(refused.stdout).toMatch(/is empty: schema version 17 will be created/);
      expect(refused.stderr).toMatch(/pass --yes/);
      const created = run('--yes');
      expect(created.status).toBe(0);
      expect(created.stdout).toMatch(/created MogileFS schema version 17/);
      const current = run();
      expect(current.status).toBe(0);
      expect(current.stdout).toMatch(/up to date/);
    } finally {
      await database.drop();
    }
  });
});
