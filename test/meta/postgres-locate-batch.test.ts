import { sql } from 'kysely';
import { afterEach, describe, expect, it } from 'vitest';
import { createPostgresAdapter } from '../../src/meta/dialects/postgres/postgres-adapter.js';
import { KyselyMetaStore } from '../../src/meta/kysely-meta-store.js';
import type { QueryEvent } from '../../src/meta/query-observer.js';
import { backends } from '../helpers/meta-backends.js';

/*
 * On PostgreSQL the `get_paths` lookups that arrive together are answered by one
 * statement. Each must still get exactly its own key's file.
 */
const KEYS = ['plain', 'with "quotes"', 'a,b', '{braces}', 'back\\slash', 'ünïcödé', 'NULL', ' '];

for (const backend of backends().filter((candidate) => candidate.name === 'postgres')) {
  describe('PostgreSQL lookups in batches', () => {
    const cleanups: (() => Promise<void>)[] = [];
    afterEach(async () => {
      for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
    });

    async function open(poolSize?: number) {
      const database = await backend.freshDatabase();
      cleanups.push(database.drop);
      const lookups: unknown[][] = [];
      const adapter = createPostgresAdapter({
        url: database.url,
        ...(poolSize !== undefined && { poolSize }),
        onQuery: (event: QueryEvent) => {
          if (/from "file" as "f"/.test(event.sql)) lookups.push([...event.parameters]);
        },
      });
      cleanups.push(() => adapter.close());
      await adapter.createSchema();
      for (const [i, dkey] of KEYS.entries()) {
        const fid = 100 + i;
        await adapter.db
          .insertInto('file')
          .values({ fid, dmid: 1, dkey, length: i, classid: 0, devcount: 2 })
          .execute();
        await adapter.db
          .insertInto('file_on')
          .values([
            { fid, devid: 1 },
            { fid, devid: 2 + i },
          ])
          .execute();
      }
      // The same key in another domain must not answer for domain 1.
      await adapter.db
        .insertInto('file')
        .values({ fid: 900, dmid: 2, dkey: 'other', length: 9, classid: 0, devcount: 0 })
        .execute();
      await adapter.db
        .insertInto('checksum')
        .values({ fid: 100, hashtype: 1, checksum: new Uint8Array(16).fill(7) })
        .execute();
      return { store: new KyselyMetaStore(adapter), lookups, adapter };
    }

    it('answers concurrent lookups with one statement, each with its own key', async () => {
      const { store, lookups } = await open();
      const asked = [...KEYS, 'missing', 'plain', 'other'];
      const answers = await Promise.all(asked.map((key) => store.locateFile(1, key)));
      expect(lookups).toHaveLength(1);
      for (const [i, key] of asked.entries()) {
        const index = KEYS.indexOf(key);
        if (index === -1) {
          expect(answers[i]).toBeUndefined();
          continue;
        }
        expect(answers[i]!.file).toMatchObject({ fid: 100 + index, dmid: 1, key, length: index });
        expect([...answers[i]!.devids].sort((a, b) => a - b)).toEqual([1, 2 + index]);
      }
      expect(answers[0]!.checksum?.digest).toEqual(new Uint8Array(16).fill(7));
      expect(answers[1]!.checksum).toBeUndefined();
    });

    it('runs one statement per domain, and the plain lookup for a lone key', async () => {
      const { store, lookups } = await open();
      const [one, two] = await Promise.all([
        store.locateFile(1, 'a,b'),
        store.locateFile(2, 'other'),
      ]);
      expect(one?.file.fid).toBe(102);
      expect(two?.file.fid).toBe(900);
      expect(lookups).toEqual([
        [1, 'a,b'],
        [2, 'other'],
      ]);
      expect((await store.locateFile(1, 'NULL'))?.file.fid).toBe(106);
    });

    it('splits a batch larger than one statement takes, each key still its own answer', async () => {
      const { store, lookups, adapter } = await open();
      const bulk = Array.from({ length: 37 }, (_, i) => `bulk-${i}`);
      await adapter.db
        .insertInto('file')
        .values(
          bulk.map((dkey, i) => ({
            fid: 1000 + i,
            dmid: 1,
            dkey,
            length: i,
            classid: 0,
            devcount: 1,
          })),
        )
        .execute();
      await adapter.db
        .insertInto('file_on')
        .values(bulk.map((_, i) => ({ fid: 1000 + i, devid: 1 + (i % 3) })))
        .execute();
      const answers = await Promise.all(bulk.map((key) => store.locateFile(1, key)));
      // The statements run at once, on several connections; they may finish in any order.
      const sizes = lookups.map((parameters) => parameters.length - 1);
      expect(sizes.sort((a, b) => a - b)).toEqual([5, 16, 16]);
      for (const [i, answer] of answers.entries()) {
        expect(answer?.file).toMatchObject({ fid: 1000 + i, key: `bulk-${i}`, length: i });
        expect(answer?.devids).toEqual([1 + (i % 3)]);
      }
    });

    it('plans a batched lookup once per connection, not on every call', async () => {
      // One connection, so the prepared statements seen below are the ones the lookups use.
      const { store, adapter } = await open(1);
      // A domain of some size, analyzed, as the planner sees a database in use.
      await sql`INSERT INTO file (fid, dmid, dkey, length, classid, devcount)
        SELECT 10000 + n, 1, 'filler-' || n, n, 0, 1 FROM generate_series(1, 2000) AS n`.execute(
        adapter.db,
      );
      await sql`INSERT INTO file_on (fid, devid) SELECT fid, 1 FROM file WHERE fid > 10000`.execute(
        adapter.db,
      );
      await sql`ANALYZE`.execute(adapter.db);
      for (let round = 0; round < 20; round++) {
        const answers = await Promise.all(
          ['plain', 'a,b', 'NULL'].map((key) => store.locateFile(1, key)),
        );
        expect(answers.map((answer) => answer?.file.fid)).toEqual([100, 102, 106]);
      }
      const { rows } = await sql<{ generic_plans: number; custom_plans: number }>`
        SELECT generic_plans, custom_plans FROM pg_prepared_statements
        WHERE statement LIKE '%from "file" as "f"%' AND statement NOT LIKE '%"f"."dkey" = $2'`.execute(
        adapter.db,
      );
      expect(rows).toHaveLength(1);
      // PostgreSQL plans the first five calls for their values, then keeps the generic plan;
      // a statement whose generic plan it distrusts is planned on every call (20 custom).
      expect(Number(rows[0]!.custom_plans)).toBeLessThanOrEqual(5);
      expect(Number(rows[0]!.generic_plans)).toBe(20 - Number(rows[0]!.custom_plans));
    });
  });
}
