import type SQLite from 'better-sqlite3';
import type { DirectRunner } from '../../query-helpers.js';
import { observeStatement, type QueryObserver } from '../../query-observer.js';

const MAX_STATEMENTS = 500;

/** A reading statement in raw mode (rows as arrays) and the builder of its row objects. */
interface RawReader {
  readonly statement: SQLite.Statement<unknown[], unknown[]>;
  readonly toRow: (values: unknown[]) => unknown;
}

/**
 * A function that makes a row object of `columns` from a raw row, as one object literal:
 * every row of a statement then shares one shape, and nothing is looked up by name per
 * row. The names go in as JSON strings, so any column name is a plain property key.
 */
function rowBuilder(columns: readonly string[]): (values: unknown[]) => unknown {
  const properties = columns.map((name, i) => `${JSON.stringify(name)}: values[${i}]`);
  return new Function('values', `return { ${properties.join(', ')} };`) as (
    values: unknown[],
  ) => unknown;
}

/**
 * Prepared statements by SQL text. Kysely prepares every query anew, and preparing costs
 * more than running most of ours. better-sqlite3 runs each statement to completion
 * synchronously, so one statement is never in use twice at once.
 */
export class StatementCache {
  readonly #connection: SQLite.Database;
  readonly #statements = new Map<string, SQLite.Statement>();
  /** Direct reads, by SQL text; undefined marks SQL that does not read. */
  readonly #readers = new Map<string, RawReader | undefined>();

  constructor(connection: SQLite.Database) {
    this.#connection = connection;
  }

  prepare(sql: string): SQLite.Statement {
    let statement = this.#statements.get(sql);
    if (!statement) {
      statement = this.#connection.prepare(sql);
      remember(this.#statements, sql, statement);
    }
    return statement;
  }

  /**
   * The statement of a direct read, prepared on its own in raw mode (the cached one in
   * `prepare` answers Kysely with row objects). Building rows from arrays with a fixed
   * literal costs about a third less than better-sqlite3 naming each column per row.
   */
  #reader(sql: string): RawReader | undefined {
    if (this.#readers.has(sql)) return this.#readers.get(sql);
    const statement = this.#connection.prepare(sql);
    // Only statements that read and write nothing (`DELETE … RETURNING` answers rows too).
    const reader =
      statement.reader && statement.readonly
        ? {
            statement: statement.raw(true) as SQLite.Statement<unknown[], unknown[]>,
            toRow: rowBuilder(statement.columns().map((column) => column.name)),
          }
        : undefined;
    remember(this.#readers, sql, reader);
    return reader;
  }

  /** The connection as Kysely's dialect should see it: `prepare` answered from the cache. */
  connectionForKysely(): SQLite.Database {
    return new Proxy(this.#connection, {
      get: (target, property, receiver) =>
        property === 'prepare'
          ? (sql: string) => this.prepare(sql)
          : Reflect.get(target, property, receiver),
    });
  }

  /**
   * Reads at once, without Kysely's connection lock, whenever no transaction is open on
   * the connection: a read then sees exactly the committed state, as it would after
   * waiting its turn. Inside a transaction (whose uncommitted rows a read must not see)
   * and for writes it answers undefined, and the statement takes Kysely's path.
   */
  directReader(observer: QueryObserver | undefined): DirectRunner {
    return (sql, parameters) => {
      if (this.#connection.inTransaction) return undefined;
      const reader = this.#reader(sql);
      if (!reader) return undefined;
      if (!observer) return { rows: reader.statement.all(parameters).map(reader.toRow) };
      const observed = observeStatement(observer, sql, parameters);
      try {
        const rows = reader.statement.all(parameters).map(reader.toRow);
        observed();
        return { rows };
      } catch (error) {
        observed(error);
        throw error;
      }
    };
  }
}

/** Adds to a cache of at most MAX_STATEMENTS entries, dropping the oldest when full. */
function remember<V>(cache: Map<string, V>, sql: string, value: V): void {
  if (cache.size >= MAX_STATEMENTS) cache.delete(cache.keys().next().value!);
  cache.set(sql, value);
}
