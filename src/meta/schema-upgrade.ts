import type { Kysely } from 'kysely';
import type { Database } from './tables.js';

/** Column kinds the upgrade steps add; each dialect spells them in its own SQL. */
export type ColumnKind =
  | 'port'
  | 'ip'
  | 'netmask'
  | 'seconds'
  | 'weight'
  | 'policy'
  | 'text'
  | 'hashtype';

/**
 * What the upgrade steps need from one engine: facts about the existing tables and the
 * statements that change them. Lives in dialects/<engine>/upgrade-dialect.ts.
 */
export interface UpgradeDialect {
  /** The column's type, lowercase; undefined when the column does not exist. */
  columnType(db: Kysely<Database>, table: string, column: string): Promise<string | undefined>;
  addColumn(db: Kysely<Database>, table: string, column: string, kind: ColumnKind): Promise<void>;
  /** The values a `status` column accepts; undefined when it accepts any string. */
  statusValues(db: Kysely<Database>, table: 'host' | 'device'): Promise<string[] | undefined>;
  setStatusValues(
    db: Kysely<Database>,
    table: 'host' | 'device',
    values: readonly string[],
  ): Promise<void>;
  /** True when the type already holds what `kind` needs (long text, 32-bit sizes). */
  isWide(type: string, kind: 'text' | 'int'): boolean;
  widenColumn(
    db: Kysely<Database>,
    table: string,
    column: string,
    kind: 'text' | 'int',
  ): Promise<void>;
}

/** One idempotent change of mogdbsetup's upgrade (metadata-schema.md §5). */
export interface UpgradeStep {
  readonly name: string;
  /** The table it changes; a missing table is created complete instead. */
  readonly table: string;
  isPresent(db: Kysely<Database>, dialect: UpgradeDialect): Promise<boolean>;
  apply(db: Kysely<Database>, dialect: UpgradeDialect): Promise<void>;
}

function addColumns(name: string, table: string, columns: Record<string, ColumnKind>) {
  const missing = async (db: Kysely<Database>, dialect: UpgradeDialect) => {
    const absent: string[] = [];
    for (const column of Object.keys(columns)) {
      if ((await dialect.columnType(db, table, column)) === undefined) absent.push(column);
    }
    return absent;
  };
  return {
    name,
    table,
    async isPresent(db, dialect) {
      return (await missing(db, dialect)).length === 0;
    },
    async apply(db, dialect) {
      for (const column of await missing(db, dialect)) {
        await dialect.addColumn(db, table, column, columns[column]!);
      }
    },
  } satisfies UpgradeStep;
}

function allowStatus(name: string, table: 'host' | 'device', value: string): UpgradeStep {
  return {
    name,
    table,
    async isPresent(db, dialect) {
      const values = await dialect.statusValues(db, table);
      return values === undefined || values.includes(value);
    },
    async apply(db, dialect) {
      const values = (await dialect.statusValues(db, table)) ?? [];
      await dialect.setStatusValues(db, table, [...values, value]);
    },
  };
}

function widen(name: string, table: string, columns: string[], kind: 'text' | 'int') {
  const narrow = async (db: Kysely<Database>, dialect: UpgradeDialect) => {
    const found: string[] = [];
    for (const column of columns) {
      const type = await dialect.columnType(db, table, column);
      if (type !== undefined && !dialect.isWide(type, kind)) found.push(column);
    }
    return found;
  };
  return {
    name,
    table,
    async isPresent(db, dialect) {
      return (await narrow(db, dialect)).length === 0;
    },
    async apply(db, dialect) {
      for (const column of await narrow(db, dialect)) {
        await dialect.widenColumn(db, table, column, kind);
      }
    },
  } satisfies UpgradeStep;
}

/** mogdbsetup's upgrade steps, in its order (metadata-schema.md §5). */
export const UPGRADE_STEPS: readonly UpgradeStep[] = [
  addColumns('add host.http_get_port', 'host', { http_get_port: 'port' }),
  // The original also makes altip unique; mogile's own schema does not (see schema.ts).
  addColumns('add host.altip and host.altmask', 'host', { altip: 'ip', altmask: 'netmask' }),
  addColumns('add device.mb_asof', 'device', { mb_asof: 'seconds' }),
  addColumns('add device.weight', 'device', { weight: 'weight' }),
  allowStatus('allow device status readonly', 'device', 'readonly'),
  allowStatus('allow device status drain', 'device', 'drain'),
  addColumns('add class.replpolicy', 'class', { replpolicy: 'policy' }),
  widen('widen server_settings.value to TEXT', 'server_settings', ['value'], 'text'),
  addColumns('add file_to_queue.arg', 'file_to_queue', { arg: 'text' }),
  widen('widen device.mb_total and mb_used to INT', 'device', ['mb_total', 'mb_used'], 'int'),
  addColumns('add class.hashtype', 'class', { hashtype: 'hashtype' }),
  allowStatus('allow host status readonly', 'host', 'readonly'),
];

/** Runs every step whose change is missing, in order; returns the names of those run. */
export async function runUpgradeSteps(
  db: Kysely<Database>,
  dialect: UpgradeDialect,
): Promise<string[]> {
  const applied: string[] = [];
  for (const step of UPGRADE_STEPS) {
    if (await step.isPresent(db, dialect)) continue;
    await step.apply(db, dialect);
    applied.push(step.name);
  }
  return applied;
}
