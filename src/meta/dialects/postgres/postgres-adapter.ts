import { Kysely, PostgresDialect, type RawBuilder, sql } from 'kysely';
import pg from 'pg';
import type { DialectAdapter, StatisticsRefresh } from '../../dialect-adapter.js';
import { type DirectRunner, hotStatementName, runDirectly } from '../../query-helpers.js';
import { kyselyLogOption, observeStatement, type QueryObserver } from '../../query-observer.js';
import type { Database } from '../../tables.js';
import { POSTGRES_SCHEMA } from './schema.js';
import { POSTGRES_UPGRADE } from './upgrade-dialect.js';

export interface ServerDatabaseOptions {
  /** `postgres://user:pass@host:port/db` (or `mysql://…` for the MySQL adapter). */
  readonly url: string;
  /** Used when the URL carries no user (the original's `db_user`/`db_pass`). */
  readonly user?: string;
  readonly password?: string;
  /** Connections in the pool (architecture.md §5: one bounded pool per tracker). */
  readonly poolSize?: number;
  /** A new connection that is not ready within this long fails (the server is unreachable). */
  readonly connectTimeoutMs?: number;
  /** The server cancels a statement running longer than this (PostgreSQL only). */
  readonly statementTimeoutMs?: number;
  /** Told of every statement run (tests, metrics). */
  readonly onQuery?: QueryObserver | undefined;
  /**
   * Prepare the hot statements once per connection (PostgreSQL; default true). Off for
   * poolers that cannot keep named statements, such as PgBouncer before 1.21 in
   * transaction mode.
   */
  readonly preparedStatements?: boolean | undefined;
}

/** int8 and numeric as JavaScript numbers: fids, counts and sums stay far below 2^53. */
const PG_INT8 = 20;
const PG_NUMERIC = 1700;
const types = {
  getTypeParser(oid: number, format?: 'text' | 'binary') {
    if (oid === PG_INT8 || oid === PG_NUMERIC) return (value: string) => Number(value);
    return pg.types.getTypeParser(oid, format);
  },
};

/**
 * Runs the hot statements (src/meta/query-helpers.ts) as named prepared statements: the
 * server parses and plans each once per connection instead of on every call, which about
 * doubles the rate of point lookups it answers. Every other statement goes as before.
 */
function prepareHotStatements(client: pg.PoolClient): void {
  const query = client.query.bind(client) as (...args: unknown[]) => unknown;
  client.query = ((...args: unknown[]) => {
    const [text, values] = args;
    const name = typeof text === 'string' ? hotStatementName(text) : undefined;
    if (name === undefined || args.length !== 2 || !Array.isArray(values)) return query(...args);
    return query({ name, text, values });
  }) as typeof client.query;
}

/**
 * Runs the hot lookups straight on the pool: Kysely's executor and connection provider
 * around each cost about 12 µs of a 90 µs lookup. Writes, and everything inside a
 * transaction, go through Kysely as before.
 */
function poolReader(
  pool: pg.Pool,
  prepared: boolean,
  observer: QueryObserver | undefined,
): DirectRunner {
  return (text, parameters) => {
    if (!text.startsWith('select ')) return undefined;
    const name = prepared ? hotStatementName(text) : undefined;
    const values = [...parameters];
    const running = pool.query(name === undefined ? { text, values } : { name, text, values });
    if (!observer) return running.then((result) => ({ rows: result.rows }));
    const observed = observeStatement(observer, text, parameters);
    return running.then(
      (result) => {
        observed();
        return { rows: result.rows };
      },
      (error: unknown) => {
        observed(error);
        throw error;
      },
    );
  };
}

export function createPostgresAdapter(options: ServerDatabaseOptions): DialectAdapter {
  const url = new URL(options.url);
  const pool = new pg.Pool({
    // `?host=/folder` (libpq's form) reaches the server through its Unix socket there.
    host: url.searchParams.get('host') ?? url.hostname,
    port: url.port === '' ? 5432 : Number(url.port),
    database: decodeURIComponent(url.pathname.replace(/^\//, '')),
    user: url.username ? decodeURIComponent(url.username) : options.user,
    password: url.password ? decodeURIComponent(url.password) : options.password,
    max: options.poolSize ?? 8,
    ...(options.connectTimeoutMs !== undefined && {
      connectionTimeoutMillis: options.connectTimeoutMs,
    }),
    ...(options.statementTimeoutMs !== undefined && {
      statement_timeout: options.statementTimeoutMs,
    }),
    keepAlive: true,
    types,
  });
  // A connection that fails (the server restarted, the network cut) must not crash the
  // tracker: idle ones report through the pool, checked-out ones through the client. The
  // statement running on it rejects, and the pool drops the broken client on release.
  pool.on('error', () => undefined);
  pool.on('connect', (client) => {
    client.on('error', () => undefined);
    if (options.preparedStatements ?? true) prepareHotStatements(client);
  });
  const db = new Kysely<Database>({
    dialect: new PostgresDialect({ pool }),
    ...kyselyLogOption(options.onQuery),
  });
  runDirectly(db, poolReader(pool, options.preparedStatements ?? true, options.onQuery));
  return {
    engine: 'postgres',
    db,
    async createSchema() {
      await db.transaction().execute(async (trx) => {
        // Two trackers creating the schema at once must not trip over each other.
        await sql`SELECT pg_advisory_xact_lock(4217017)`.execute(trx);
        for (const statement of POSTGRES_SCHEMA) await sql.raw(statement).execute(trx);
      });
    },
    async listTables() {
      const result = await sql<{ tablename: string }>`
        SELECT tablename FROM pg_tables WHERE schemaname = current_schema()`.execute(db);
      return result.rows.map((row) => row.tablename);
    },
    upgrade: POSTGRES_UPGRADE,
    async analyzeTablesWithoutStatistics(tables) {
      // A table that was never analyzed (a restore, a bulk load, autovacuum off) leaves
      // the planner guessing: it may take the (dmid, classid, devcount) index for a key
      // lookup and read the whole domain each time. ANALYZE reads a sample of the table
      // and blocks no reads or writes.
      const found = async (query: RawBuilder<unknown>) => (await query.execute(db)).rows.length > 0;
      const hasRows = (table: string) => found(sql`SELECT 1 FROM ${sql.table(table)} LIMIT 1`);
      const hasStatistics = (table: string) =>
        found(sql`SELECT 1 FROM pg_stats
                  WHERE schemaname = current_schema() AND tablename = ${table} LIMIT 1`);
      const result: StatisticsRefresh = { analyzed: [], refused: [] };
      for (const table of tables) {
        if ((await hasStatistics(table)) || !(await hasRows(table))) continue;
        // Only the owner may analyze a table; anyone else gets a warning, not an error.
        await sql`ANALYZE ${sql.table(table)}`.execute(db);
        ((await hasStatistics(table)) ? result.analyzed : result.refused).push(table);
      }
      return result;
    },
    isUniqueViolation(error) {
      return (error as { code?: string })?.code === '23505';
    },
    async close() {
      await db.destroy();
    },
  };
}
