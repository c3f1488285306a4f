import { sql } from 'kysely';
import type { ColumnKind, UpgradeDialect } from '../../schema-upgrade.js';

/** Column kinds as MySQL's schema 17 spells them (schema.ts). */
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

/** Table and column names come from the fixed step list, never from input. */
const quote = (name: string) => `\`${name}\``;

/** The upgrade steps' SQL on MySQL and MariaDB (schema-upgrade.ts). */
export const MYSQL_UPGRADE: UpgradeDialect = {
  async columnType(db, table, column) {
    const result = await sql<{ type: string }>`
      SELECT column_type AS type FROM information_schema.columns
      WHERE table_schema = DATABASE() AND table_name = ${table} AND column_name = ${column}`.execute(
      db,
    );
    return result.rows[0]?.type.toString().toLowerCase();
  },
  async addColumn(db, table, column, kind) {
    await sql
      .raw(`ALTER TABLE ${quote(table)} ADD COLUMN ${quote(column)} ${TYPES[kind]}`)
      .execute(db);
  },
  async statusValues(db, table) {
    const type = await this.columnType(db, table, 'status');
    if (!type?.startsWith('enum(')) return undefined;
    return [...type.matchAll(/'((?:[^']|'')*)'/g)].map((match) => match[1]!.replaceAll("''", "'"));
  },
  async setStatusValues(db, table, values) {
    const list = values.map((value) => `'${value.replaceAll("'", "''")}'`).join(',');
    await sql.raw(`ALTER TABLE ${quote(table)} MODIFY status ENUM(${list})`).execute(db);
  },
  isWide(type, kind) {
    return kind === 'text' ? /text/.test(type) : /^(int|bigint)\b/.test(type);
  },
  async widenColumn(db, table, column, kind) {
    const type = kind === 'text' ? 'TEXT' : 'INT UNSIGNED';
    await sql.raw(`ALTER TABLE ${quote(table)} MODIFY ${quote(column)} ${type}`).execute(db);
  },
};
