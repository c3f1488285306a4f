import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { DialectAdapter } from '../../src/meta/dialect-adapter.js';
import { createSqliteAdapter } from '../../src/meta/dialects/sqlite/sqlite-adapter.js';
import { locateFile } from '../../src/meta/file-queries.js';
import type { QueryEvent } from '../../src/meta/query-observer.js';

/*
 * On SQLite the hot lookups skip Kysely's executor and read the one connection at once.
 * They must still never see rows a transaction on that connection has not committed.
 */
describe('SQLite reads outside Kysely', () => {
  const cleanups: (() => Promise<void> | void)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  async function open(onQuery?: (event: QueryEvent) => void): Promise<DialectAdapter> {
    const dir = mkdtempSync(join(tmpdir(), 'mogile-direct-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const adapter = createSqliteAdapter({
      path: join(dir, 'meta.db'),
      ...(onQuery && { onQuery }),
    });
    cleanups.push(() => adapter.close());
    await adapter.createSchema();
    return adapter;
  }

  const file = (fid: number, dkey: string) => ({
    fid,
    dmid: 1,
    dkey,
    length: 4096,
    classid: 0,
    devcount: 1,
  });

  it('answers a lookup and still reports the statement to the observer', async () => {
    const events: QueryEvent[] = [];
    const adapter = await open((event) => events.push(event));
    await adapter.db.insertInto('file').values(file(7, 'k')).execute();
    await adapter.db.insertInto('file_on').values({ fid: 7, devid: 3 }).execute();
    events.length = 0;
    const located = await locateFile(adapter.db, 1, 'k');
    expect(located).toMatchObject({ file: { fid: 7, key: 'k' }, devids: [3] });
    expect(events).toHaveLength(1);
    expect(events[0]!.sql).toMatch(/^select .* from "file" as "f"/);
    expect(events[0]!.parameters).toEqual([1, 'k']);
  });

  it('does not read rows of an open transaction, which may still roll back', async () => {
    const adapter = await open();
    let inserted!: () => void;
    const insertedRow = new Promise<void>((resolve) => {
      inserted = resolve;
    });
    let rollBack!: () => void;
    const rollBackNow = new Promise<void>((resolve) => {
      rollBack = resolve;
    });
    const transaction = adapter.db
      .transaction()
      .execute(async (trx) => {
        await trx.insertInto('file').values(file(9, 'dirty')).execute();
        inserted();
        await rollBackNow;
        throw new Error('rolled back on purpose');
      })
      .catch((error: Error) => error.message);
    await insertedRow;
    // Issued while the row is written but not committed: it waits its turn.
    const lookup = locateFile(adapter.db, 1, 'dirty');
    rollBack();
    expect(await transaction).toBe('rolled back on purpose');
    expect(await lookup).toBeUndefined();
  });

  it('sees what a transaction committed as soon as it has committed', async () => {
    const adapter = await open();
    await adapter.db.transaction().execute(async (trx) => {
      await trx.insertInto('file').values(file(11, 'fresh')).execute();
    });
    expect(await locateFile(adapter.db, 1, 'fresh')).toMatchObject({ file: { fid: 11 } });
  });
});
