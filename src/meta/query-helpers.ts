import {
  type CompiledQuery,
  createQueryId,
  type Kysely,
  MysqlAdapter,
  PostgresAdapter,
  type QueryResult,
  type RootOperationNode,
  sql,
  type Transaction,
} from 'kysely';
import type { Database } from './tables.js';

export type Db = Kysely<Database> | Transaction<Database>;

export async function exists(query: { executeTakeFirst(): Promise<unknown> }): Promise<boolean> {
  return (await query.executeTakeFirst()) !== undefined;
}

export async function maxOf<T extends keyof Database>(
  db: Db,
  table: T,
  column: string,
  // biome-ignore lint/suspicious/noExplicitAny: the filter narrows a query of any table
  filter: (query: any) => any = (query) => query,
): Promise<number> {
  // biome-ignore lint/suspicious/noExplicitAny: column names vary per table
  const query = (db.selectFrom(table) as any).select((eb: any) => eb.fn.max(column).as('top'));
  const row = (await filter(query).executeTakeFirst()) as { top: number | null } | undefined;
  return Number(row?.top ?? 0);
}

export type Engine = 'sqlite' | 'postgres' | 'mysql';

const mysqlVersions = new WeakMap<Kysely<Database>, Promise<string>>();

/**
 * `VERSION()` of a MySQL (`8.0.36`) or MariaDB (`10.11.6-MariaDB-0+deb12u1`) server, asked
 * once per database handle, for the few statements whose form depends on the server. A
 * failed ask is forgotten, so a database that was down then is asked again next time.
 */
export function mysqlVersion(db: Kysely<Database>): Promise<string> {
  let known = mysqlVersions.get(db);
  if (!known) {
    known = sql<{ version: string }>`SELECT VERSION() AS version`
      .execute(db)
      .then((result) => String(result.rows[0]?.version ?? ''));
    known.catch(() => mysqlVersions.delete(db));
    mysqlVersions.set(db, known);
  }
  return known;
}

type Release = readonly [major: number, minor: number, patch: number];

/**
 * Whether `version` is at least `mysql` (a MySQL server) or `mariadb` (a MariaDB server);
 * null: no release of that server.
 */
export function mysqlAtLeast(
  version: string,
  mysql: Release | null,
  mariadb: Release | null,
): boolean {
  const [major = 0, minor = 0, patch = 0] = version.split(/[.-]/).map(Number);
  const wanted = /mariadb/i.test(version) ? mariadb : mysql;
  if (wanted === null) return false;
  const [a, b, c] = wanted;
  return major > a || (major === a && (minor > b || (minor === b && patch >= c)));
}

/** Which engine a connection or transaction talks to, for the few statements that differ. */
export function engineOf(db: Db): Engine {
  const adapter = db.getExecutor().adapter;
  if (adapter instanceof MysqlAdapter) return 'mysql';
  if (adapter instanceof PostgresAdapter) return 'postgres';
  return 'sqlite';
}

// biome-ignore lint/suspicious/noExplicitAny: queries of every shape share one cache
type AnyRunner = (db: Db, ...args: any[]) => Promise<QueryResult<any>>;
const queriesByShape = new Map<string, AnyRunner>();

/**
 * The reusable query for `shape`, a name that must determine everything `build` puts into
 * the SQL (the table, the optional conditions): for statements whose form depends on their
 * call, one reusable query per form.
 */
export function reusableQueryOfShape<A extends readonly unknown[], O>(
  shape: string,
  build: (db: Db, ...args: A) => { compile(): CompiledQuery<O> },
): (db: Db, ...args: A) => Promise<QueryResult<O>> {
  let run = queriesByShape.get(shape);
  if (!run) {
    run = reusableQuery(build);
    queriesByShape.set(shape, run);
  }
  return run;
}

/**
 * Insert-if-absent, returning the rows inserted (0 when the row existed): `INSERT IGNORE`
 * on MySQL, `ON CONFLICT DO NOTHING` elsewhere. Never
 * insert-and-catch: a failed statement aborts a PostgreSQL transaction.
 */
export async function insertIgnoring<T extends keyof Database>(
  db: Db,
  table: T,
  // biome-ignore lint/suspicious/noExplicitAny: a row of whichever table is named
  row: Record<string, any>,
): Promise<number> {
  const columns = Object.keys(row);
  const run = reusableQueryOfShape(`insert-ignoring ${table}(${columns})`, (db: Db, ...values) => {
    const insert = db
      .insertInto(table)
      // biome-ignore lint/suspicious/noExplicitAny: the columns of whichever table is named
      .values(Object.fromEntries(columns.map((column, i) => [column, values[i]])) as any);
    return engineOf(db) === 'mysql'
      ? insert.ignore()
      : insert.onConflict((conflict) => conflict.doNothing());
  });
  const result = await run(db, ...columns.map((column) => row[column]));
  return Number(result.numAffectedRows ?? 0);
}

/** `SELECT … FOR UPDATE` where the engine has row locks; SQLite has one writer anyway. */
// biome-ignore lint/suspicious/noExplicitAny: works on any select query
export function forUpdate<Q extends { forUpdate(): any }>(db: Db, query: Q): Q {
  return engineOf(db) === 'sqlite' ? query : query.forUpdate();
}

/**
 * Runs a compiled statement outside Kysely's executor (at once, or answering a promise), or
 * answers undefined when it cannot (then the statement goes through Kysely as usual).
 */
export type DirectRunner = (
  sql: string,
  parameters: readonly unknown[],
) => QueryResult<unknown> | Promise<QueryResult<unknown>> | undefined;

const directRunners = new WeakMap<Db, DirectRunner>();

/**
 * Lets reusable queries on `db` (the engine's root instance, never a transaction) skip
 * Kysely's executor: its connection lock and promise hops cost more than a synchronous
 * engine takes to answer a point lookup.
 */
export function runDirectly(db: Kysely<Database>, runner: DirectRunner): void {
  directRunners.set(db, runner);
}

const hotStatementNames = new Map<string, string>();

/**
 * A stable name for the SQL of a reusable query, or undefined for any other statement:
 * engines that keep prepared statements per connection can prepare the hot ones once.
 */
export function hotStatementName(sql: string): string | undefined {
  return hotStatementNames.get(sql);
}

/** Stands for the i-th argument of a reusable query while it is compiled. */
class Placeholder {
  constructor(readonly index: number) {}
}

interface QueryPlan {
  readonly sql: string;
  readonly query: RootOperationNode;
  /** Per parameter: the argument it takes, or a constant of the query itself. */
  readonly slots: ReadonlyArray<number | { readonly constant: unknown }>;
}

/**
 * A query of a hot path, built and compiled once per engine and then run with new
 * arguments. Kysely builds and compiles every query anew, which costs more than SQLite
 * takes to run it. `build` must use each argument only as a plain value (a comparison or
 * an inserted value), never to shape the SQL.
 */
export function reusableQuery<A extends readonly unknown[], O>(
  build: (db: Db, ...args: A) => { compile(): CompiledQuery<O> },
): (db: Db, ...args: A) => Promise<QueryResult<O>> {
  const plans = new Map<Engine, QueryPlan>();
  return (db, ...args) => {
    const engine = engineOf(db);
    let plan = plans.get(engine);
    if (!plan) {
      const placeholders = args.map((_, index) => new Placeholder(index)) as unknown as A;
      const compiled = build(db, ...placeholders).compile();
      plan = {
        sql: compiled.sql,
        query: compiled.query,
        slots: compiled.parameters.map((value) =>
          value instanceof Placeholder ? value.index : { constant: value },
        ),
      };
      plans.set(engine, plan);
      if (!hotStatementNames.has(plan.sql)) {
        hotStatementNames.set(plan.sql, `mogile_hot_${hotStatementNames.size + 1}`);
      }
    }
    const parameters = plan.slots.map((slot) =>
      typeof slot === 'number' ? args[slot] : slot.constant,
    );
    const direct = directRunners.get(db);
    if (direct) {
      try {
        const result = direct(plan.sql, parameters);
        if (result) return Promise.resolve(result as QueryResult<O> | Promise<QueryResult<O>>);
      } catch (error) {
        return Promise.reject(error);
      }
    }
    return db.executeQuery<O>({
      sql: plan.sql,
      query: plan.query,
      parameters,
      queryId: createQueryId(),
    });
  };
}
