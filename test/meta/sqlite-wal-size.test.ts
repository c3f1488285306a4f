import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import SQLite from 'better-sqlite3';
import { sql } from 'kysely';
import { afterEach, describe, expect, it } from 'vitest';
import { createSqliteAdapter } from '../../src/meta/dialects/sqlite/sqlite-adapter.js';

const LIMIT_BYTES = 256 * 1024;

describe('the SQLite log after a burst of writes', () => {
  const cleanups: (() => Promise<void> | void)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  it('is cut back to its limit once the checkpoints have caught up', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mogile-wal-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const path = join(dir, 'meta.db');
    const adapter = createSqliteAdapter({ path, walSizeLimitBytes: LIMIT_BYTES });
    cleanups.push(() => adapter.close());
    await adapter.createSchema();
    await sql`CREATE TABLE burst (n INTEGER, body BLOB)`.execute(adapter.db);

    // A reader holding its snapshot keeps the checkpoints from catching up, as a busy
    // tracker's stream of writes does: the log grows far past the limit.
    const reader = new SQLite(path, { readonly: true });
    cleanups.push(() => {
      reader.close();
    });
    reader.exec('BEGIN');
    reader.prepare('SELECT count(*) FROM burst').get();
    const body = Buffer.alloc(8 * 1024, 1);
    for (let n = 0; n < 200; n++) {
      await sql`INSERT INTO burst VALUES (${n}, ${body})`.execute(adapter.db);
    }
    const walPath = `${path}-wal`;
    expect(statSync(walPath).size).toBeGreaterThan(4 * LIMIT_BYTES);

    // Once the reader is gone a checkpoint (the tracker's worker, here a connection of our
    // own) copies the whole log back; the next write starts the log over and cuts the file.
    reader.exec('COMMIT');
    const checkpointer = new SQLite(path);
    cleanups.push(() => {
      checkpointer.close();
    });
    expect(checkpointer.pragma('wal_checkpoint(PASSIVE)')).toEqual([
      expect.objectContaining({ busy: 0 }),
    ]);
    await sql`INSERT INTO burst VALUES (${-1}, ${null})`.execute(adapter.db);
    expect(statSync(walPath).size).toBeLessThanOrEqual(LIMIT_BYTES);
    const rows = await sql<{ n: number }>`SELECT count(*) AS n FROM burst`.execute(adapter.db);
    expect(rows.rows[0]!.n).toBe(201);
  });
});
