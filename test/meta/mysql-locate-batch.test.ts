import { afterEach, describe, expect, it } from 'vitest';
import { createMysqlAdapter } from '../../src/meta/dialects/mysql/mysql-adapter.js';
import { KyselyMetaStore } from '../../src/meta/kysely-meta-store.js';
import type { QueryEvent } from '../../src/meta/query-observer.js';
import { backends } from '../helpers/meta-backends.js';

/*
 * On MySQL and MariaDB, too, the `get_paths` lookups that arrive together are answered by
 * one statement. Each must still get exactly its own key's file, also where the key
 * column's collation takes `FOO` and `foo ` for `foo`.
 */
const KEYS = ['plain', "it's", 'a,b', 'back\\slash', 'ünïcödé', 'NULL', ' ', 'foo'];

for (const backend of backends().filter((candidate) => candidate.name === 'mysql')) {
  describe('MySQL lookups in batches', () => {
    const cleanups: (() => Promise<void>)[] = [];
    afterEach(async () => {
      for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
    });

    async function open(keyCollation?: string) {
      const database = await backend.freshDatabase();
      cleanups.push(database.drop);
      const lookups: unknown[][] = [];
      const adapter = createMysqlAdapter({
        url: database.url,
        onQuery: (event: QueryEvent) => {
          if (/from `file` as `f`/.test(event.sql)) lookups.push([...event.parameters]);
        },
      });
      cleanups.push(() => adapter.close());
      await adapter.createSchema();
      if (keyCollation) {
        await backend.exec(database.url, [
          `ALTER TABLE file MODIFY dkey VARCHAR(255) COLLATE ${keyCollation}`,
        ]);
      }
      for (const [i, dkey] of KEYS.entries()) {
        const fid = 100 + i;
        await adapter.db
          .insertInto('file')
          .values({ fid, dmid: 1, dkey, length: i, classid: 0, devcount: 1 })
          .execute();
        await adapter.db.insertInto('file_on').values({ fid, devid: 1 }).execute();
      }
      return { store: new KyselyMetaStore(adapter), lookups };
    }

    it('answers concurrent lookups with one statement, each with its own key', async () => {
      const { store, lookups } = await open();
      const asked = [...KEYS, 'missing', 'plain', 'foo '];
      const answers = await Promise.all(asked.map((key) => store.locateFile(1, key)));
      expect(lookups).toHaveLength(1);
      for (const [i, key] of asked.entries()) {
        const index = KEYS.indexOf(key);
        if (index === -1) expect(answers[i]).toBeUndefined();
        else expect(answers[i]?.file).toMatchObject({ fid: 100 + index, key, length: index });
      }
    });

    it('answers only the key itself where the collation ignores case and trailing spaces', async () => {
      const { store, lookups } = await open('utf8mb4_general_ci');
      const asked = ['FOO', 'foo ', 'foo', 'PLAIN'];
      const answers = await Promise.all(asked.map((key) => store.locateFile(1, key)));
      expect(lookups).toHaveLength(1);
      expect(answers.map((answer) => answer?.file.fid)).toEqual([
        undefined,
        undefined,
        107,
        undefined,
      ]);
      // Alone, too (the lookup of one key).
      expect(await store.locateFile(1, 'Foo')).toBeUndefined();
      expect((await store.locateFile(1, 'foo'))?.file.fid).toBe(107);
    });
  });
}
