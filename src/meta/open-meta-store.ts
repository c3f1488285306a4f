import type { DialectAdapter } from './dialect-adapter.js';
import { createSqliteAdapter } from './dialects/sqlite/sqlite-adapter.js';
import { MetaSchemaError } from './errors.js';
import { ensureHighWaterRow } from './fid-allocation.js';
import { KyselyMetaStore } from './kysely-meta-store.js';
import type { MetaStore } from './meta-store.js';
import type { QueryObserver } from './query-observer.js';
import { SCHEMA_TABLES, SCHEMA_VERSION } from './tables.js';

export interface OpenOptions {
  /** Skip the schema version check (the original's `no_schema_check`). */
  readonly noSchemaCheck?: boolean;
  /** Credentials for a server URL that carries none (`db_user`, `db_pass`). */
  readonly user?: string;
  readonly password?: string;
  /** Size of the connection pool for PostgreSQL and MySQL. */
  readonly poolSize?: number;
  /** How long opening one connection may take (PostgreSQL and MySQL). */
  readonly connectTimeoutMs?: number;
  /** Statements running longer are cancelled by the server (PostgreSQL). */
  readonly statementTimeoutMs?: number;
  /** Prepare the hot statements once per connection (PostgreSQL; default true). */
  readonly preparedStatements?: boolean;
  /**
   * Told of every statement the store runs, BEGIN and COMMIT included (tests count them,
   * metrics may time them). Unset, it costs nothing.
   */
  readonly onQuery?: QueryObserver;
}

/**
 * Picks the engine for a database URL: `sqlite:PATH`, `postgres://…` (or
 * `postgresql://…`), `mysql://…` (or `mariadb://…`). The PostgreSQL and MySQL drivers
 * are loaded only when used, so a tracker on SQLite does not carry them in memory.
 */
export async function adapterFor(url: string, options: OpenOptions = {}): Promise<DialectAdapter> {
  const sqlite = /^sqlite:(?:\/\/)?(.+)$/i.exec(url);
  if (sqlite) {
    return createSqliteAdapter({
      path: sqlite[1]!,
      ...(options.onQuery && { onQuery: options.onQuery }),
    });
  }
  const server = {
    url,
    user: options.user,
    password: options.password,
    poolSize: options.poolSize,
    connectTimeoutMs: options.connectTimeoutMs,
    statementTimeoutMs: options.statementTimeoutMs,
    preparedStatements: options.preparedStatements,
    onQuery: options.onQuery,
  };
  if (/^postgres(ql)?:\/\//i.test(url)) {
    const { createPostgresAdapter } = await import('./dialects/postgres/postgres-adapter.js');
    return createPostgresAdapter(server);
  }
  if (/^(mysql|mariadb):\/\//i.test(url)) {
    const { createMysqlAdapter } = await import('./dialects/mysql/mysql-adapter.js');
    return checked(createMysqlAdapter(server));
  }
  throw new MetaSchemaError(
    `unsupported database URL "${url}": expected sqlite:PATH, postgres://… or mysql://…`,
  );
}

/** The adapter once its server passed `checkServer`; closed when it did not. */
async function checked(adapter: DialectAdapter): Promise<DialectAdapter> {
  try {
    await adapter.checkServer?.();
    return adapter;
  } catch (error) {
    await adapter.close();
    throw error;
  }
}

/**
 * Opens the metadata store. An empty database gets schema 17; a MogileFS database of
 * version 17 is used as it is; anything else is refused with what was found.
 */
export async function openMetaStore(url: string, options: OpenOptions = {}): Promise<MetaStore> {
  const adapter = await adapterFor(url, options);
  try {
    await prepareSchema(adapter, options);
    await ensureHighWaterRow(adapter.db);
  } catch (error) {
    await adapter.close();
    throw error;
  }
  return new KyselyMetaStore(adapter);
}

async function prepareSchema(adapter: DialectAdapter, options: OpenOptions): Promise<void> {
  const tables = await adapter.listTables();
  if (tables.length === 0) {
    await adapter.createSchema();
    await adapter.db
      .insertInto('server_settings')
      .values({ field: 'schema_version', value: String(SCHEMA_VERSION) })
      .execute();
    return;
  }
  if (!options.noSchemaCheck) {
    if (!tables.includes('server_settings')) {
      throw new MetaSchemaError(
        `the database is not a MogileFS database: found tables ${tables.sort().join(', ')}, ` +
          `expected MogileFS schema version ${SCHEMA_VERSION}`,
      );
    }
    const row = await adapter.db
      .selectFrom('server_settings')
      .select('value')
      .where('field', '=', 'schema_version')
      .executeTakeFirst();
    checkVersion(row?.value ?? undefined);
  }
  // Adds only our own tables to an existing MogileFS database. Only when one is missing:
  // on PostgreSQL even CREATE INDEX IF NOT EXISTS locks its table, which would stall (or
  // deadlock with) the other trackers busy on it while this one starts.
  if (SCHEMA_TABLES.some((table) => !tables.includes(table))) await adapter.createSchema();
}

function checkVersion(found: string | undefined): void {
  if (found === String(SCHEMA_VERSION)) return;
  if (found === undefined) {
    throw new MetaSchemaError(
      `the database has no schema_version setting; expected MogileFS schema version ${SCHEMA_VERSION}`,
    );
  }
  const version = Number(found);
  if (Number.isInteger(version) && version < SCHEMA_VERSION) {
    throw new MetaSchemaError(
      `the database has MogileFS schema version ${found}, older than the ${SCHEMA_VERSION} ` +
        'this tracker needs; upgrade it first: mogile setup-db --db URL',
    );
  }
  throw new MetaSchemaError(
    `the database has schema version "${found}", which this tracker does not know; ` +
      `expected MogileFS schema version ${SCHEMA_VERSION}`,
  );
}
