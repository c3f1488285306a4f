import { sql } from 'kysely';
import { afterEach, describe, expect, it } from 'vitest';
import type { DialectAdapter } from '../../src/meta/dialect-adapter.js';
import { createPostgresAdapter } from '../../src/meta/dialects/postgres/postgres-adapter.js';
import { locateFile } from '../../src/meta/file-queries.js';
import { backends } from '../helpers/meta-backends.js';

/*
 * On PostgreSQL the hot statements are prepared once per connection (named statements),
 * unless `db_prepared_statements` is off for a pooler that cannot keep them.
 */
for (const backend of backends().filter((candidate) => candidate.name === 'postgres')) {
  describe('PostgreSQL prepared hot statements', () => {
    const cleanups: (() => Promise<void>)[] = [];
    afterEach(async () => {
      for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
    });

    async function open(preparedStatements: boolean): Promise<DialectAdapter> {
      const database = await backend.freshDatabase();
      cleanups.push(database.drop);
      // One connection, so the session asked about its statements is the one that ran them.
      const adapter = createPostgresAdapter({ url: database.url, poolSize: 1, preparedStatements });
      cleanups.push(() => adapter.close());
      await adapter.createSchema();
      await adapter.db
        .insertInto('file')
        .values({ fid: 5, dmid: 1, dkey: 'k', length: 4096, classid: 0, devcount: 2 })
        .execute();
      await adapter.db
        .insertInto('file_on')
        .values([
          { fid: 5, devid: 1 },
          { fid: 5, devid: 2 },
        ])
        .execute();
      return adapter;
    }

    async function preparedHere(adapter: DialectAdapter): Promise<string[]> {
      const { rows } = await sql<{ name: string }>`
        SELECT name FROM pg_prepared_statements WHERE name LIKE 'mogile_hot_%'`.execute(adapter.db);
      return rows.map((row) => row.name);
    }

    it('prepares a hot lookup once and answers it the same every time', async () => {
      const adapter = await open(true);
      for (let i = 0; i < 3; i++) {
        const located = await locateFile(adapter.db, 1, 'k');
        expect(located?.file.fid).toBe(5);
        expect([...(located?.devids ?? [])].sort()).toEqual([1, 2]);
      }
      expect(await locateFile(adapter.db, 1, 'missing')).toBeUndefined();
      expect(await preparedHere(adapter)).toHaveLength(1);
    });

    it('prepares nothing when switched off', async () => {
      const adapter = await open(false);
      expect((await locateFile(adapter.db, 1, 'k'))?.file.fid).toBe(5);
      expect(await preparedHere(adapter)).toEqual([]);
    });
  });
}
