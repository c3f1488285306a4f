import { setTimeout } from 'node:timers/promises';
import { sql } from 'kysely';
import { afterEach, describe, expect, it } from 'vitest';
import { createPostgresAdapter } from '../../src/meta/dialects/postgres/postgres-adapter.js';
import { openMetaStore } from '../../src/meta/index.js';
import { createTrackerServices } from '../../src/tracker/services.js';
import { memoryLogger } from '../helpers/memory-logger.js';
import { backends } from '../helpers/meta-backends.js';
import { spawnTracker } from '../helpers/tracker-process.js';

/*
 * A tracker starting on tables that hold rows but were never analyzed (a restore, a bulk
 * load) gathers their planner statistics first, and looks again while it runs: without
 * them PostgreSQL may answer a key lookup by reading the whole domain through the
 * (dmid, classid, devcount) index.
 */
describe('planner statistics for the lookup tables', () => {
  const cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  const nothing = { analyzed: [], refused: [] };

  for (const backend of backends()) {
    it(`on ${backend.name}: analyzes only tables with rows and no statistics`, async () => {
      const database = await backend.freshDatabase();
      cleanups.push(database.drop);
      const store = await openMetaStore(database.url);
      cleanups.push(() => store.close());
      // Empty tables: nothing to learn from.
      expect(await store.analyzeTablesWithoutStatistics()).toEqual(nothing);

      await backend.exec(database.url, [
        ...Array.from(
          { length: 20 },
          (_, batch) =>
            `INSERT INTO file (fid, dmid, dkey, length, classid, devcount) VALUES ${Array.from(
              { length: 100 },
              (_, i) => `(${batch * 100 + i + 1}, 1, 'key-${batch * 100 + i + 1}', 10, 0, 1)`,
            ).join(', ')}`,
        ),
        'INSERT INTO file_on (fid, devid) VALUES (1, 1), (2, 1), (3, 1)',
      ]);
      const analyzed = await store.analyzeTablesWithoutStatistics();
      if (backend.name !== 'postgres') {
        expect(analyzed).toEqual(nothing);
        return;
      }
      // `checksum` is still empty, so it is left alone.
      expect(analyzed).toEqual({ analyzed: ['file', 'file_on'], refused: [] });
      expect(await store.analyzeTablesWithoutStatistics()).toEqual(nothing);
      expect((await store.locateFile(1, 'key-1500'))?.file.fid).toBe(1500);

      const inspect = createPostgresAdapter({ url: database.url, poolSize: 1 });
      cleanups.push(() => inspect.close());
      const { rows } = await sql<{ 'QUERY PLAN': string }>`
        EXPLAIN SELECT fid FROM file WHERE dmid = 1 AND dkey = 'key-1500'`.execute(inspect.db);
      const plan = rows.map((row) => row['QUERY PLAN']).join('\n');
      expect(plan).toContain('file_dmid_dkey_key');
      expect(plan).not.toContain('Filter');
    });
  }

  for (const backend of backends().filter((candidate) => candidate.name === 'postgres')) {
    it('on postgres: names the tables a user that does not own them could not analyze', async () => {
      const database = await backend.freshDatabase();
      cleanups.push(database.drop);
      const store = await openMetaStore(database.url);
      cleanups.push(() => store.close());
      await backend.exec(database.url, [
        "INSERT INTO file (fid, dmid, dkey, length, classid, devcount) VALUES (1, 1, 'a', 1, 0, 1)",
      ]);
      // A role that may read the tables but does not own them: PostgreSQL skips its
      // ANALYZE with a warning, not an error.
      const role = `mogile_reader_${process.pid}_${Math.random().toString(36).slice(2, 8)}`;
      await backend.exec(database.url, [
        `CREATE ROLE ${role} LOGIN`,
        `GRANT SELECT ON ALL TABLES IN SCHEMA public TO ${role}`,
      ]);
      cleanups.push(() =>
        backend.exec(database.url, [
          `REVOKE ALL ON ALL TABLES IN SCHEMA public FROM ${role}`,
          `DROP ROLE ${role}`,
        ]),
      );
      const url = new URL(database.url);
      url.username = role;
      const reader = createPostgresAdapter({ url: url.href, poolSize: 1 });
      cleanups.push(() => reader.close());
      expect(await reader.analyzeTablesWithoutStatistics?.(['file', 'checksum'])).toEqual({
        analyzed: [],
        refused: ['file'],
      });
      // The owner can.
      expect(await store.analyzeTablesWithoutStatistics()).toEqual({
        analyzed: ['file'],
        refused: [],
      });
    });

    it('on postgres: a tracker analyzes such tables before it serves, and says so', async () => {
      const database = await backend.freshDatabase();
      cleanups.push(database.drop);
      const store = await openMetaStore(database.url);
      await store.close();
      await backend.exec(database.url, [
        "INSERT INTO file (fid, dmid, dkey, length, classid, devcount) VALUES (1, 1, 'a', 1, 0, 1)",
        'INSERT INTO file_on (fid, devid) VALUES (1, 1)',
      ]);
      const tracker = await spawnTracker({ db: database.url });
      cleanups.push(async () => {
        await tracker.stop();
      });
      const line = tracker
        .stderr()
        .split('\n')
        .find((text) => text.includes('analyzed tables that had no planner statistics'));
      expect(JSON.parse(line!).tables).toEqual(['file', 'file_on']);
    });

    it('on postgres: a running tracker analyzes tables filled after it started', async () => {
      const database = await backend.freshDatabase();
      cleanups.push(database.drop);
      const { logger, records } = memoryLogger('info');
      const services = await createTrackerServices({
        dbUrl: database.url,
        jobMaster: false,
        logger,
        statisticsCheckIntervalMs: 20,
      });
      cleanups.push(() => services.close());
      await backend.exec(database.url, [
        "INSERT INTO file (fid, dmid, dkey, length, classid, devcount) VALUES (1, 1, 'a', 1, 0, 1)",
      ]);
      const analyzed = () =>
        records.find((record) => record.msg === 'analyzed tables that had no planner statistics');
      const deadline = Date.now() + 10_000;
      while (!analyzed() && Date.now() < deadline) await setTimeout(20);
      expect(analyzed()?.['tables']).toEqual(['file']);
      expect(records.filter((record) => record.level >= 40)).toEqual([]);
    });
  }
});
