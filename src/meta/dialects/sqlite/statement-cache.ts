import type SQLite from 'better-sqlite3';
import type { DirectRunner } from '../../query-helpers.js';
import { observeStatement, type QueryObserver } from '../../query-observer.js';

const MAX_STATEMENTS = 500;

/**
 * Prepared statements by SQL text. Kysely prepares every query anew, and preparing costs
 * more than running most of ours. better-sqlite3 runs each statement to completion
 * synchronously, so one statement is never in use twice at once.
 */
export class StatementCache {
  readonly #connection: SQLite.Database;
  readonly #statements = new Map<string, SQLite.Statement>();

  constructor(connection: SQLite.Database) {
    this.#connection = connection;
  }

  prepare(sql: string): SQLite.Statement {
    let statement = this.#statements.get(sql);
    if (!statement) {
      statement = this.#connection.prepare(sql);
      if (this.#statements.size >= MAX_STATEMENTS) {
        this.#statements.delete(this.#statements.keys().next().value!);
      }
      this.#statements.set(sql, statement);
    }
    return statement;
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
      const statement = this.prepare(sql);
      if (!statement.reader) return undefined;
      if (!observer) return { rows: statement.all(parameters) };
      const observed = observeStatement(observer, sql, parameters);
      try {
        const rows = statement.all(parameters);
        observed();
        return { rows };
      } catch (error) {
        observed(error);
        throw error;
      }
    };
  }
}
