import SQLite from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { QueryEvent } from '../../query-observer.js';
import { StatementCache } from './statement-cache.js';

describe('StatementCache direct reads', () => {
  let connection: SQLite.Database;
  let cache: StatementCache;

  beforeEach(() => {
    connection = new SQLite(':memory:');
    connection.exec(`
      CREATE TABLE file (fid INTEGER PRIMARY KEY, dkey TEXT, length BIGINT, body BLOB);
      INSERT INTO file VALUES (1, 'a', 4096, x'0102'), (2, 'b', NULL, NULL);
    `);
    cache = new StatementCache(connection);
  });

  afterEach(() => connection.close());

  it('answers the rows better-sqlite3 would, column for column', () => {
    const sql =
      'SELECT fid, dkey, length, body, fid + 1 AS "next fid", \'x"y\' AS "odd""name" FROM file ORDER BY fid';
    const read = cache.directReader(undefined);
    const direct = read(sql, []) as { rows: unknown[] };
    expect(direct.rows).toEqual(connection.prepare(sql).all());
    expect(direct.rows[0]).toEqual({
      fid: 1,
      dkey: 'a',
      length: 4096,
      body: Buffer.from([1, 2]),
      'next fid': 2,
      'odd"name': 'x"y',
    });
    // The same statement again, with parameters, from the cache.
    const one = read('SELECT fid, dkey FROM file WHERE fid = ?', [2]) as { rows: unknown[] };
    expect(one.rows).toEqual([{ fid: 2, dkey: 'b' }]);
    expect(read('SELECT fid, dkey FROM file WHERE fid = ?', [3])).toEqual({ rows: [] });
  });

  it('keeps row objects for statements prepared for Kysely', () => {
    const sql = 'SELECT fid FROM file WHERE fid = ?';
    cache.directReader(undefined)(sql, [1]);
    expect(cache.prepare(sql).all(1)).toEqual([{ fid: 1 }]);
  });

  it('leaves writes and reads inside a transaction to Kysely', () => {
    const read = cache.directReader(undefined);
    expect(read('UPDATE file SET length = 1 WHERE fid = 1', [])).toBeUndefined();
    expect(read('DELETE FROM file WHERE fid = 2 RETURNING fid', [])).toBeUndefined();
    expect(connection.prepare('SELECT count(*) AS n FROM file').get()).toEqual({ n: 2 });
    expect(connection.prepare('SELECT length FROM file WHERE fid = 1').get()).toEqual({
      length: 4096,
    });
    connection.exec('BEGIN');
    expect(read('SELECT fid FROM file', [])).toBeUndefined();
    connection.exec('ROLLBACK');
    expect(read('SELECT fid FROM file', [])).toEqual({ rows: [{ fid: 1 }, { fid: 2 }] });
  });

  it('tells the observer of each direct read, failures included', () => {
    const events: QueryEvent[] = [];
    const read = cache.directReader((event) => events.push(event));
    read('SELECT dkey FROM file WHERE fid = ?', [1]);
    expect(() => read('SELECT dkey FROM file WHERE fid = ?', [])).toThrow(RangeError);
    expect(events.map((event) => [event.sql, event.parameters, event.error !== undefined])).toEqual(
      [
        ['SELECT dkey FROM file WHERE fid = ?', [1], false],
        ['SELECT dkey FROM file WHERE fid = ?', [], true],
      ],
    );
  });
});
