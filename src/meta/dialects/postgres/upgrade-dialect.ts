import { sql } from 'kysely';
import type { ColumnKind, UpgradeDialect } from '../../schema-upgrade.js';

/** Column kinds as PostgreSQL's schema 17 spells them (schema.ts). */
const TYPES: Record<ColumnKind, string> = {
  port: 'INTEGER',
  ip: 'VARCHAR(15)',
  netmask: 'VARCHAR(18)',
  seconds: 'INTEGER',
  weight: 'INTEGER DEFAULT 100',
  policy: 'VARCHAR(255)',
  text: 'TEXT',
  hashtype: 'SMALLINT',
};

/** Table and column names come from the fixed step list, never from input. */
const quote = (name: string) => `"${name}"`;

/**
 * The upgrade steps' SQL on PostgreSQL (schema-upgrade.ts). Status columns are VARCHAR
 * with a CHECK constraint; extending one replaces every CHECK that names the column.
 */
export const POSTGRES_UPGRADE: UpgradeDialect = {
  async columnType(db, table, column) {
    const result = await sql<{ type: string }>`
      SELECT data_type AS type FROM information_schema.columns
      WHERE table_schema = current_schema() AND table_name = ${table}
        AND column_name = ${column}`.execute(db);
    return result.rows[0]?.type.toLowerCase();
  },
  async addColumn(db, table, column, kind) {
    await sql
      .raw(`ALTER TABLE ${quote(table)} ADD COLUMN ${quote(column)} ${TYPES[kind]}`)
      .execute(db);
  },
  async statusValues(db, table) {
    const checks = await statusChecks(db, table);
    if (checks.length === 0) return undefined;
    const values = checks.flatMap((check) =>
      [...check.definition.matchAll(/'((?:[^']|'')*)'/g)].map((m) => m[1]!.replaceAll("''", "'")),
    );
    return [...new Set(values)];
  },
  async setStatusValues(db, table, values) {
    const list = values.map((value) => `'${value.replaceAll("'", "''")}'`).join(', ');
    await db.transaction().execute(async (trx) => {
      for (const check of await statusChecks(trx, table)) {
        await sql
          .raw(`ALTER TABLE ${quote(table)} DROP CONSTRAINT ${quote(check.name)}`)
          .execute(trx);
      }
      await sql.raw(`ALTER TABLE ${quote(table)} ADD CHECK (status IN (${list}))`).execute(trx);
    });
  },
  isWide(type, kind) {
    return kind === 'text' ? type === 'text' : type === 'integer' || type === 'bigint';
  },
  async widenColumn(db, table, column, kind) {
    const type = kind === 'text' ? 'TEXT' : 'INTEGER';
    await sql
      .raw(`ALTER TABLE ${quote(table)} ALTER COLUMN ${quote(column)} TYPE ${type}`)
      .execute(db);
  },
};

async function statusChecks(
  db: Parameters<UpgradeDialect['columnType']>[0],
  table: string,
): Promise<{ name: string; definition: string }[]> {
  const result = await sql<{ name: string; definition: string }>`
    SELECT conname AS name, pg_get_constraintdef(oid) AS definition FROM pg_constraint
    WHERE conrelid = to_regclass(${table}) AND contype = 'c'`.execute(db);
  return result.rows.filter((row) => /\bstatus\b/.test(row.definition));
}
