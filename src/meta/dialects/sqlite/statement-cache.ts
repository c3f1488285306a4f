import type SQLite from 'better-sqlite3';

const MAX_STATEMENTS = 500;

/**
 * Kysely prepares every query anew; preparing costs more than running most of ours. This
 * hands out cached statements by SQL text. better-sqlite3 runs each statement to completion
 * synchronously, so one statement is never in use twice at once.
 */
export function withStatementCache(connection: SQLite.Database): SQLite.Database {
  const cache = new Map<string, SQLite.Statement>();
  const prepare = connection.prepare.bind(connection);
  return new Proxy(connection, {
    get(target, property, receiver) {
      if (property !== 'prepare') return Reflect.get(target, property, receiver);
      return (sql: string) => {
        let statement = cache.get(sql);
        if (!statement) {
          statement = prepare(sql);
          if (cache.size >= MAX_STATEMENTS) cache.delete(cache.keys().next().value!);
          cache.set(sql, statement);
        }
        return statement;
      };
    },
  });
}
