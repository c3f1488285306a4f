import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import {
  MetaDuplicateError,
  MetaSchemaError,
  type MetaStore,
  openMetaStore,
} from '../../src/meta/index.js';
import { backends } from '../helpers/meta-backends.js';
import { waitUntil } from '../helpers/wait-for.js';

/** An upload of key `k` in domain 1, and what `create_close` binds for it. */
const UPLOAD_K = { dmid: 1, classid: 0, key: 'k', devids: [1], createdSeconds: 1 };
const BINDING_K = { dmid: 1, key: 'k', classid: 0, lengthBytes: 3, devid: 1, nowSeconds: 5 };

for (const backend of backends()) {
  describe(`MetaStore on ${backend.name}`, () => {
    const cleanups: (() => Promise<void>)[] = [];
    afterEach(async () => {
      for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
    });

    async function fresh(): Promise<{ store: MetaStore; url: string }> {
      const database = await backend.freshDatabase();
      cleanups.push(database.drop);
      const store = await openMetaStore(database.url);
      cleanups.push(() => store.close());
      return { store, url: database.url };
    }

    it('creates schema version 17 on an empty database', async () => {
      const { store } = await fresh();
      expect(await store.getSetting('schema_version')).toBe('17');
      expect(await store.listDomains()).toEqual([]);
    });

    it('assigns dmids as max+1 and refuses duplicate domain names', async () => {
      const { store } = await fresh();
      expect(await store.createDomain('a')).toEqual({ dmid: 1, name: 'a' });
      expect(await store.createDomain('b')).toEqual({ dmid: 2, name: 'b' });
      await expect(store.createDomain('a')).rejects.toBeInstanceOf(MetaDuplicateError);
      expect(await store.findDomain('b')).toEqual({ dmid: 2, name: 'b' });
      await store.deleteDomain(2);
      expect(await store.findDomain('b')).toBeUndefined();
    });

    it('keeps keys and names as exact strings, including 0 and non-ASCII', async () => {
      const { store } = await fresh();
      await store.createDomain('0');
      await store.createDomain('my dom+x&y€');
      expect((await store.listDomains()).map((d) => d.name).sort()).toEqual(['0', 'my dom+x&y€']);
    });

    it('numbers classes per domain and tracks files per class', async () => {
      const { store } = await fresh();
      const { dmid } = await store.createDomain('d');
      const one = await store.createClass(dmid, 'one', { mindevcount: 3 });
      const two = await store.createClass(dmid, 'two', { mindevcount: 1, hashtype: 1 });
      const dflt = await store.createClass(dmid, 'default', { mindevcount: 2 }, 0);
      expect([one.classid, two.classid, dflt.classid]).toEqual([1, 2, 0]);
      await expect(store.createClass(dmid, 'one', {})).rejects.toBeInstanceOf(MetaDuplicateError);
      await store.updateClass(dmid, 1, { mindevcount: 4, replpolicy: 'MultipleDevices()' });
      expect(await store.findClass(dmid, 'one')).toMatchObject({
        mindevcount: 4,
        replpolicy: 'MultipleDevices()',
        hashtype: null,
      });
      expect(await store.domainHasClasses(dmid)).toBe(true);
      await store.deleteClass(dmid, 1);
      await store.deleteClass(dmid, 2);
      expect(await store.domainHasClasses(dmid)).toBe(false);
      expect(await store.classHasFiles(dmid, 0)).toBe(false);
      await store.deleteDomain(dmid);
      expect(await store.listClasses()).toEqual([]);
    });

    it('keeps a class durability in mogile_class_option and drops it with the class', async () => {
      const { store } = await fresh();
      const { dmid } = await store.createDomain('d');
      const safe = await store.createClass(dmid, 'safe', { mindevcount: 2, durability: 'sync' });
      expect(safe.durability).toBe('sync');
      expect((await store.createClass(dmid, 'fast', {})).durability).toBe('async');
      expect(await store.findClass(dmid, 'safe')).toMatchObject({ durability: 'sync' });
      await store.updateClass(dmid, safe.classid, { mindevcount: 3 });
      expect(await store.findClass(dmid, 'safe')).toMatchObject({
        mindevcount: 3,
        durability: 'sync',
      });
      await store.updateClass(dmid, 2, { durability: 'sync' });
      await store.updateClass(dmid, 2, { durability: 'sync' });
      expect((await store.listClasses()).map((row) => [row.name, row.durability]).sort()).toEqual([
        ['fast', 'sync'],
        ['safe', 'sync'],
      ]);
      await store.updateClass(dmid, safe.classid, { durability: 'async' });
      expect(await store.findClass(dmid, 'safe')).toMatchObject({ durability: 'async' });
      // Deleting the class removes its option: a new class with its id starts as async.
      await store.deleteClass(dmid, 2);
      expect((await store.createClass(dmid, 'new', {}, 2)).durability).toBe('async');
      expect(await store.findClass(dmid, 'new')).toMatchObject({ durability: 'async' });
      await store.updateClass(dmid, 0, { durability: 'sync' });
      await store.deleteClass(dmid, 1);
      await store.deleteClass(dmid, 2);
      await store.deleteDomain(dmid);
      const again = await store.createDomain('d2');
      expect(again.dmid).toBe(dmid);
      expect((await store.createClass(again.dmid, 'default', {}, 0)).durability).toBe('async');
    });

    it('creates hosts down, updates their fields and refuses duplicate names', async () => {
      const { store } = await fresh();
      const host = await store.createHost('h1', '10.0.0.1');
      expect(host).toMatchObject({ hostid: 1, status: 'down', httpPort: 7500, name: 'h1' });
      await store.updateHost(1, {
        status: 'alive',
        httpPort: 7600,
        altIp: '10.1.0.1',
        altMask: '10.1.0.0/16',
      });
      expect((await store.listHosts())[0]).toMatchObject({
        status: 'alive',
        httpPort: 7600,
        altIp: '10.1.0.1',
        altMask: '10.1.0.0/16',
      });
      await expect(store.createHost('h1', '10.0.0.2')).rejects.toBeInstanceOf(MetaDuplicateError);
      // Several nodes may share an address on different ports.
      expect(await store.createHost('h2', '10.0.0.1', { httpPort: 7501 })).toMatchObject({
        hostid: 2,
      });
    });

    it('registers devices and records usage', async () => {
      const { store } = await fresh();
      await store.createHost('h1', '10.0.0.1');
      await store.createDevice({ devid: 5, hostid: 1, status: 'alive', weight: 100 });
      await expect(
        store.createDevice({ devid: 5, hostid: 1, status: 'alive', weight: 100 }),
      ).rejects.toBeInstanceOf(MetaDuplicateError);
      expect(await store.hostHasDevices(1)).toBe(true);
      await store.updateDevice(5, { status: 'drain', weight: 7 });
      await store.recordDeviceUsage(5, { mbTotal: 1000, mbUsed: 10, asofSeconds: 1234 });
      expect(await store.listDevices()).toEqual([
        {
          devid: 5,
          hostid: 1,
          status: 'drain',
          weight: 7,
          mbTotal: 1000,
          mbUsed: 10,
          mbAsof: 1234,
        },
      ]);
    });

    it('stores, overwrites and deletes server settings', async () => {
      const { store } = await fresh();
      await store.setSetting('memcache_ttl', '60');
      await store.setSetting('memcache_ttl', '90');
      expect(await store.getSetting('memcache_ttl')).toBe('90');
      await store.setSetting('memcache_ttl', null);
      expect(await store.getSetting('memcache_ttl')).toBeUndefined();
      expect([...(await store.listSettings()).keys()]).toEqual(['schema_version']);
    });

    it('never hands out a fid twice, even after the top fids are gone and the store reopens', async () => {
      const { store, url } = await fresh();
      const tempfile = { dmid: 1, classid: 0, key: 'k', devids: [1, 2], createdSeconds: 1 };
      const first = await store.reserveTempfile(tempfile);
      const second = await store.reserveTempfile(tempfile);
      expect(second).toBeGreaterThan(first);
      await store.close();
      cleanups.pop();
      // Simulate the top fids vanishing (deleted files, swept tempfiles, a rewound sequence).
      await backend.exec(url, backend.rewindTempfile);
      const reopened = await openMetaStore(url);
      cleanups.push(() => reopened.close());
      const third = await reopened.reserveTempfile(tempfile);
      expect(third).toBeGreaterThan(second);
    });

    it('hands a tempfile to exactly one claim, whole', async () => {
      const { store } = await fresh();
      const reserve = (key: string) =>
        store.reserveTempfile({ dmid: 1, classid: 3, key, devids: [4, 5], createdSeconds: 77 });
      const fid = await reserve('claimed');
      expect(await store.claimTempfile(fid)).toEqual({
        fid,
        dmid: 1,
        classid: 3,
        key: 'claimed',
        devids: '4,5',
        createdSeconds: 77,
      });
      expect(await store.claimTempfile(fid)).toBeUndefined();
      // Two closes of one fid at once: one owns it, the other finds nothing.
      const raced = await reserve('raced');
      const claims = await Promise.all([store.claimTempfile(raced), store.claimTempfile(raced)]);
      expect(claims.filter((claim) => claim !== undefined)).toHaveLength(1);
    });

    it('tells in one statement whose fid it is and whether it waits for deletion', async () => {
      const database = await backend.freshDatabase();
      cleanups.push(database.drop);
      const statements: string[] = [];
      const store = await openMetaStore(database.url, {
        onQuery: (event) => statements.push(event.sql),
      });
      cleanups.push(() => store.close());
      const fid = await store.reserveTempfile({ ...UPLOAD_K, key: 'ключ 0' });
      statements.length = 0;
      expect(await store.fidBinding(fid)).toEqual({ queuedForDeletion: false });
      expect(statements).toHaveLength(1);
      await store.claimTempfile(fid);
      await store.commitFile({ fid, ...BINDING_K, key: 'ключ 0' });
      expect(await store.fidBinding(fid)).toEqual({
        owner: { dmid: 1, key: 'ключ 0' },
        queuedForDeletion: false,
      });
      await store.deleteFile(fid, 7);
      expect(await store.fidBinding(fid)).toEqual({ queuedForDeletion: true });
    });

    it('binds a file, records extra copies once, and queues a vanished fid for deletion', async () => {
      const { store } = await fresh();
      const fid = await store.reserveTempfile(UPLOAD_K);
      await store.claimTempfile(fid);
      await store.commitFile({ fid, ...BINDING_K });
      expect(await store.addFileCopy(fid, 2)).toEqual({ outcome: 'recorded' });
      expect(await store.addFileCopy(fid, 2)).toEqual({ outcome: 'recorded' });
      expect((await store.fileDevids(fid)).sort()).toEqual([1, 2]);
      expect(await store.findFileByFid(fid)).toMatchObject({ devcount: 2 });
      expect(await store.locateFile(1, 'k')).toMatchObject({
        file: { fid, key: 'k', devcount: 2 },
        devids: expect.arrayContaining([1, 2]),
      });
      expect(await store.locateFile(1, 'nope')).toBeUndefined();
      const digest = new Uint8Array(16).fill(7);
      await store.saveChecksumIfAbsent(fid, { hashtype: 1, digest });
      const byFid = await store.locateFid(fid);
      expect(byFid).toMatchObject({
        file: { fid, key: 'k', devcount: 2 },
        checksum: { hashtype: 1 },
      });
      expect([...(byFid?.devids ?? [])].sort()).toEqual([1, 2]);
      expect([...(byFid?.checksum?.digest ?? [])]).toEqual([...digest]);
      expect(await store.locateFid(fid + 1000)).toBeUndefined();
      await store.removeFileCopy(fid, 2);
      expect(await store.fileDevids(fid)).toEqual([1]);
      expect(await store.findFileByFid(fid)).toMatchObject({ devcount: 1 });
      await store.deleteFile(fid, 7);
      expect(await store.addFileCopy(fid, 3)).toEqual({ outcome: 'file_deleted' });
      expect((await store.fidQueues(fid)).delete).toBeDefined();
      expect(await store.fileDevids(fid)).toContain(3);
    });

    it('makes the deletion of a deleted file due again when a copy of it is recorded late', async () => {
      const { store } = await fresh();
      const fid = await store.reserveTempfile(UPLOAD_K);
      await store.claimTempfile(fid);
      await store.commitFile({ fid, ...BINDING_K });
      await store.deleteFile(fid, 7);
      // Some tracker's delete worker holds the row and has read the copies there were.
      const [claimed] = await store.claimDeletionTasks(10, 10);
      expect(claimed?.fid).toBe(fid);
      expect(await store.addFileCopy(fid, 2)).toEqual({ outcome: 'file_deleted' });
      // Finishing under its claim must not drop the row: the copy on dev2 is still there.
      await store.finishQueueRow('file_to_delete2', fid, claimed!.lease);
      expect((await store.fidQueues(fid)).delete).toMatchObject({ nexttry: 0 });
      expect((await store.claimDeletionTasks(10, 10)).map((task) => task.fid)).toEqual([fid]);
      expect((await store.fileDevids(fid)).sort()).toEqual([1, 2]);
    });

    it('records a copy only for the bytes it was made from, whatever the key is now', async () => {
      const { store, url } = await fresh();
      const fid = await store.reserveTempfile(UPLOAD_K);
      await store.claimTempfile(fid);
      await store.commitFile({ fid, ...BINDING_K });
      const madeFor = (await store.findFileByFid(fid))!;
      // A rename during the copy changes nothing the copy holds.
      expect(await store.renameFile(1, 'k', 'renamed')).toBe(true);
      expect(await store.addFileCopy(fid, 2, madeFor)).toEqual({ outcome: 'recorded' });
      expect((await store.fileDevids(fid)).sort()).toEqual([1, 2]);
      // A length that changed (no command does that) is another file: nothing is written.
      await backend.exec(url, [`UPDATE file SET length = 4 WHERE fid = ${fid}`]);
      const record = await store.addFileCopy(fid, 3, madeFor);
      expect(record).toEqual({
        outcome: 'file_changed',
        now: { ...madeFor, key: 'renamed', length: 4, devcount: 2 },
      });
      expect((await store.fileDevids(fid)).sort()).toEqual([1, 2]);
    });

    if (backend.name !== 'sqlite') {
      it('holds the file row while it records a copy, so a delete cannot slip between', async () => {
        const { store, url } = await fresh();
        const fid = await store.reserveTempfile(UPLOAD_K);
        await store.claimTempfile(fid);
        await store.commitFile({ fid, ...BINDING_K });
        // Another session deletes the file and has not committed when the copy is recorded.
        const deleting = await openSession(backend.name, url);
        try {
          await deleting.query('BEGIN');
          await deleting.query(`DELETE FROM file WHERE fid = ${fid}`);
          const recording = store.addFileCopy(fid, 2);
          // Polled more slowly than every 100 ms: InnoDB refreshes innodb_trx only then.
          await waitUntil(
            'the copy waits for the row lock',
            async () => (await deleting.lockWaiters()) > 0,
            20_000,
            150,
          );
          await deleting.query(`INSERT INTO file_to_delete2 (fid, nexttry) VALUES (${fid}, 7)`);
          await deleting.query('COMMIT');
          // The delete won: the copy is recorded for its worker to remove, not counted.
          expect(await recording).toEqual({ outcome: 'file_deleted' });
          expect((await store.fileDevids(fid)).sort()).toEqual([1, 2]);
          expect((await store.fidQueues(fid)).delete).toBeDefined();
        } finally {
          await deleting.end();
        }
      });
    }

    it('writes the bound file and its checksum over rows of the same fid, as REPLACE does', async () => {
      const database = await backend.freshDatabase();
      cleanups.push(database.drop);
      const url = database.url;
      const statements: string[] = [];
      const store = await openMetaStore(url, { onQuery: (event) => statements.push(event.sql) });
      cleanups.push(() => store.close());
      const fid = await store.reserveTempfile(UPLOAD_K);
      // Rows no tracker would leave: a file and a checksum already under the new fid.
      await backend.exec(url, [
        `INSERT INTO file (fid, dmid, dkey, length, classid, devcount) VALUES (${fid}, 1, 'stray', 9, 0, 5)`,
        `INSERT INTO checksum (fid, hashtype, checksum) VALUES (${fid}, 2, ${backend.name === 'postgres' ? "'\\x00'" : "x'00'"})`,
      ]);
      await store.claimTempfile(fid);
      const digest = new Uint8Array(16).fill(3);
      statements.length = 0;
      await store.commitFile({ fid, ...BINDING_K, checksum: { hashtype: 1, digest } });
      // One upsert each where the engine can aim it at the fid alone (not MySQL).
      const deletes = statements.filter((text) =>
        /^delete from [`"]?(file|checksum)[`"]? /i.test(text),
      );
      expect(deletes).toHaveLength(backend.name === 'mysql' ? 2 : 0);
      expect(await store.findFileByFid(fid)).toMatchObject({
        fid,
        key: 'k',
        length: 3,
        devcount: 1,
      });
      expect(await store.findFile(1, 'stray')).toBeUndefined();
      const stored = await store.getChecksum(fid);
      expect(stored?.hashtype).toBe(1);
      expect([...(stored?.digest ?? [])]).toEqual([...digest]);
      // A checksum recorded later never replaces one that is there.
      await store.saveChecksumIfAbsent(fid, { hashtype: 2, digest: new Uint8Array(20) });
      expect((await store.getChecksum(fid))?.hashtype).toBe(1);
    });

    it('accepts an unused explicit fid and refuses one that is in use', async () => {
      const { store } = await fresh();
      expect(await store.reserveTempfile({ ...UPLOAD_K, fid: 900000 })).toBe(900000);
      await expect(store.reserveTempfile({ ...UPLOAD_K, fid: 900000 })).rejects.toBeInstanceOf(
        MetaDuplicateError,
      );
      // A fid below the high-water mark may sit in some tracker's reserved block: refused.
      const auto = await store.reserveTempfile(UPLOAD_K);
      await expect(store.reserveTempfile({ ...UPLOAD_K, fid: auto + 1 })).rejects.toBeInstanceOf(
        MetaDuplicateError,
      );
      // Auto-allocation continues above an explicit fid.
      expect(auto).toBe(900001);
    });
  });
}

/** A connection of its own to a server database, and how many sessions wait for a row lock. */
async function openSession(engine: string, url: string) {
  if (engine === 'postgres') {
    const { default: pg } = await import('pg');
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    return {
      query: (text: string) => client.query(text),
      async lockWaiters() {
        const { rows } = await client.query(
          "SELECT count(*)::int AS n FROM pg_stat_activity WHERE wait_event_type = 'Lock'",
        );
        return rows[0].n as number;
      },
      end: () => client.end(),
    };
  }
  const { createConnection } = await import('mysql2/promise');
  const connection = await createConnection(url);
  return {
    query: (text: string) => connection.query(text),
    async lockWaiters() {
      const [rows] = await connection.query(
        "SELECT COUNT(*) AS n FROM information_schema.innodb_trx WHERE trx_state = 'LOCK WAIT'",
      );
      return Number((rows as { n: number }[])[0]!.n);
    },
    end: () => connection.end(),
  };
}

describe('schema checks', () => {
  it('refuses a newer schema and says what it found', async () => {
    const database = await backends()[0]!.freshDatabase();
    try {
      const store = await openMetaStore(database.url);
      await store.setSetting('schema_version', '18');
      await store.close();
      await expect(openMetaStore(database.url)).rejects.toThrow(MetaSchemaError);
      await expect(openMetaStore(database.url)).rejects.toThrow(
        /schema version "18".*expected MogileFS schema version 17/,
      );
      const unchecked = await openMetaStore(database.url, { noSchemaCheck: true });
      await unchecked.close();
    } finally {
      await database.drop();
    }
  });

  it('refuses an older schema and a database that is not MogileFS', async () => {
    const database = await backends()[0]!.freshDatabase();
    try {
      const store = await openMetaStore(database.url);
      await store.setSetting('schema_version', '15');
      await store.close();
      await expect(openMetaStore(database.url)).rejects.toThrow(/version 15, older than the 17/);
    } finally {
      await database.drop();
    }
    const foreign = await backends()[0]!.freshDatabase();
    try {
      const raw = new Database(foreign.url.slice('sqlite:'.length));
      raw.exec('CREATE TABLE users (id INTEGER)');
      raw.close();
      await expect(openMetaStore(foreign.url)).rejects.toThrow(
        /not a MogileFS database: found tables users/,
      );
    } finally {
      await foreign.drop();
    }
  });
});
