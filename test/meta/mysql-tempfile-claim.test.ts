import { type AddressInfo, createServer } from 'node:net';
import { sql } from 'kysely';
import { afterEach, describe, expect, it } from 'vitest';
import { createMysqlAdapter } from '../../src/meta/dialects/mysql/mysql-adapter.js';
import { KyselyMetaStore } from '../../src/meta/kysely-meta-store.js';
import { mysqlAtLeast, mysqlVersion } from '../../src/meta/query-helpers.js';
import type { QueryEvent } from '../../src/meta/query-observer.js';
import { backends } from '../helpers/meta-backends.js';

describe('server releases', () => {
  it('compare by kind: MySQL and MariaDB number their releases apart', () => {
    expect(mysqlAtLeast('10.11.6-MariaDB-0+deb12u1', null, [10, 0, 5])).toBe(true);
    expect(mysqlAtLeast('10.0.4-MariaDB', null, [10, 0, 5])).toBe(false);
    expect(mysqlAtLeast('8.0.36', null, [10, 0, 5])).toBe(false);
    expect(mysqlAtLeast('8.0.36', [8, 0, 1], null)).toBe(true);
    expect(mysqlAtLeast('5.7.44-log', [8, 0, 1], null)).toBe(false);
  });

  it('are asked again after a failed ask', async () => {
    const server = createServer((socket) => socket.destroy());
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    const adapter = createMysqlAdapter({ url: `mysql://root@127.0.0.1:${port}/none` });
    try {
      const first = mysqlVersion(adapter.db);
      await expect(first).rejects.toThrow();
      const second = mysqlVersion(adapter.db);
      expect(second).not.toBe(first);
      await expect(second).rejects.toThrow();
    } finally {
      await adapter.close();
      server.close();
    }
  });
});

/*
 * create_close claims its tempfile row by deleting it. MariaDB has `DELETE … RETURNING`,
 * so there the claim is one statement, as on PostgreSQL and SQLite; MySQL has none, and
 * there a read and a delete share a transaction.
 */
for (const backend of backends().filter((candidate) => candidate.name === 'mysql')) {
  describe('a tempfile claim on MySQL or MariaDB', () => {
    const cleanups: (() => Promise<void>)[] = [];
    afterEach(async () => {
      for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
    });

    it('is one DELETE … RETURNING on MariaDB, a transaction on MySQL', async () => {
      const database = await backend.freshDatabase();
      cleanups.push(database.drop);
      const statements: string[] = [];
      const adapter = createMysqlAdapter({
        url: database.url,
        onQuery: (event: QueryEvent) => statements.push(event.sql.toLowerCase()),
      });
      cleanups.push(() => adapter.close());
      await adapter.createSchema();
      const store = new KyselyMetaStore(adapter);
      const fid = await store.reserveTempfile({
        dmid: 1,
        classid: 0,
        key: 'k',
        devids: [1, 2],
        createdSeconds: 100,
      });
      const { rows } = await sql<{ version: string }>`SELECT VERSION() AS version`.execute(
        adapter.db,
      );
      const mariadb = /mariadb/i.test(rows[0]!.version);
      statements.length = 0;
      expect(await store.claimTempfile(fid)).toMatchObject({ fid, key: 'k', devids: '1,2' });
      const claim = statements.filter((text) => !/version\(\)/.test(text));
      if (mariadb) {
        expect(claim).toHaveLength(1);
        expect(claim[0]).toMatch(/^delete from `tempfile` .* returning \*$/);
      } else {
        expect(claim.some((text) => /^select .* from `tempfile`/.test(text))).toBe(true);
      }
      expect(await store.claimTempfile(fid)).toBeUndefined();
    });
  });
}
