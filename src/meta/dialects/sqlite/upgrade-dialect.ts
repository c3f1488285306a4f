import { sql } from 'kysely';
import type { ColumnKind, UpgradeDialect } from '../../schema-upgrade.js';

/** Column kinds as SQLite's schema 17 spells them (schema.ts). */
const TYPES: Record<ColumnKind, string> = {
  port: 'MEDIUMINT UNSIGNED',
  ip: 'VARCHAR(15)',
  netmask: 'VARCHAR(18)',
  seconds: 'INT UNSIGNED',
  weight: 'MEDIUMINT DEFAULT 100',
  policy: 'VARCHAR(255)',
  text: 'TEXT',
  hashtype: 'TINYINT UNSIGNED',
};

/**
 * The upgrade steps' SQL on SQLite (schema-upgrade.ts). SQLite neither enforces column
 * widths nor has ENUMs, so only missing columns ever need a change.
 */
export const SQLITE_UPGRADE: UpgradeDialect = {
  async columnType(db, table, column) {
    // Table names come from the fixed step list, never from input.
    const result = await sql<{ name: string; type: string }>`
      SELECT name, type FROM pragma_table_info(${table})`.execute(db);
    return result.rows.find((row) => row.name === column)?.type.toLowerCase();
  },
  async addColumn(db, table, column, kind) {
    await sql.raw(`ALTER TABLE "${table}" ADD COLUMN "${column}" ${TYPES[kind]}`).execute(db);
  },
  async statusValues() {
    return undefined;
  },
  async setStatusValues() {},
  isWide() {
    return true;
  },
  async widenColumn() {},
};
