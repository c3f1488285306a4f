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

    async function open() {
      const database = await backend.freshDatabase();
      cleanups.push(database.drop);
      const lookups: unknown[][] = [];
      const adapter = createPostgresAdapter({
        url: database.url,
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
      return { store: new KyselyMetaStore(adapter), lookups };
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
  });
}
