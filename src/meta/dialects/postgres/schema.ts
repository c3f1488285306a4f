/**
 * MogileFS schema 17 for PostgreSQL (spec/metadata-schema.md §1): no UNSIGNED, TINYINT and
 * MEDIUMINT become SMALLINT/INTEGER, VARBINARY is bytea, enums are VARCHAR + CHECK, and
 * auto-increment columns are sequences. Keys and names use the "C" collation so they sort
 * byte-wise whatever the database's locale.
 */
export const POSTGRES_SCHEMA: readonly string[] = [
  `CREATE TABLE IF NOT EXISTS domain (
     dmid SMALLINT NOT NULL PRIMARY KEY,
     namespace VARCHAR(255) COLLATE "C",
     UNIQUE (namespace))`,
  `CREATE TABLE IF NOT EXISTS class (
     dmid SMALLINT NOT NULL,
     classid SMALLINT NOT NULL,
     classname VARCHAR(50) COLLATE "C",
     mindevcount SMALLINT NOT NULL,
     replpolicy VARCHAR(255),
     hashtype SMALLINT,
     PRIMARY KEY (dmid, classid),
     UNIQUE (dmid, classname))`,
  `CREATE TABLE IF NOT EXISTS file (
     fid BIGINT NOT NULL PRIMARY KEY,
     dmid SMALLINT NOT NULL,
     dkey VARCHAR(255) COLLATE "C",
     length BIGINT,
     classid SMALLINT NOT NULL,
     devcount SMALLINT NOT NULL,
     UNIQUE (dmid, dkey))`,
  'CREATE INDEX IF NOT EXISTS file_devcount ON file (dmid, classid, devcount)',
  `CREATE TABLE IF NOT EXISTS tempfile (
     fid BIGSERIAL NOT NULL PRIMARY KEY,
     createtime INTEGER NOT NULL,
     classid SMALLINT NOT NULL,
     dmid SMALLINT NOT NULL,
     dkey VARCHAR(255) COLLATE "C",
     devids VARCHAR(60))`,
  `CREATE TABLE IF NOT EXISTS file_on (
     fid BIGINT NOT NULL,
     devid INTEGER NOT NULL,
     PRIMARY KEY (fid, devid))`,
  'CREATE INDEX IF NOT EXISTS file_on_devid ON file_on (devid)',
  `CREATE TABLE IF NOT EXISTS file_on_corrupt (
     fid BIGINT NOT NULL,
     devid INTEGER NOT NULL,
     PRIMARY KEY (fid, devid))`,
  `CREATE TABLE IF NOT EXISTS unreachable_fids (
     fid BIGINT NOT NULL PRIMARY KEY,
     lastupdate INTEGER NOT NULL)`,
  'CREATE INDEX IF NOT EXISTS unreachable_fids_lastupdate ON unreachable_fids (lastupdate)',
  `CREATE TABLE IF NOT EXISTS host (
     hostid INTEGER NOT NULL PRIMARY KEY,
     status VARCHAR(8) CHECK (status IN ('alive', 'dead', 'down', 'readonly')),
     http_port INTEGER DEFAULT 7500,
     http_get_port INTEGER,
     hostname VARCHAR(40) COLLATE "C",
     hostip VARCHAR(15),
     altip VARCHAR(15),
     altmask VARCHAR(18),
     UNIQUE (hostname))`,
  `CREATE TABLE IF NOT EXISTS device (
     devid INTEGER NOT NULL PRIMARY KEY,
     hostid INTEGER NOT NULL,
     status VARCHAR(8) CHECK (status IN ('alive', 'dead', 'down', 'readonly', 'drain')),
     weight INTEGER DEFAULT 100,
     mb_total INTEGER,
     mb_used INTEGER,
     mb_asof INTEGER)`,
  'CREATE INDEX IF NOT EXISTS device_status ON device (status)',
  `CREATE TABLE IF NOT EXISTS server_settings (
     field VARCHAR(50) PRIMARY KEY,
     value TEXT)`,
  `CREATE TABLE IF NOT EXISTS file_to_replicate (
     fid BIGINT NOT NULL PRIMARY KEY,
     nexttry INTEGER NOT NULL,
     fromdevid INTEGER,
     failcount SMALLINT NOT NULL DEFAULT 0,
     flags SMALLINT NOT NULL DEFAULT 0)`,
  'CREATE INDEX IF NOT EXISTS file_to_replicate_nexttry ON file_to_replicate (nexttry)',
  `CREATE TABLE IF NOT EXISTS file_to_delete (
     fid BIGINT NOT NULL PRIMARY KEY)`,
  `CREATE TABLE IF NOT EXISTS file_to_delete_later (
     fid BIGINT NOT NULL PRIMARY KEY,
     delafter INTEGER NOT NULL)`,
  'CREATE INDEX IF NOT EXISTS file_to_delete_later_delafter ON file_to_delete_later (delafter)',
  `CREATE TABLE IF NOT EXISTS file_to_delete2 (
     fid BIGINT NOT NULL PRIMARY KEY,
     nexttry INTEGER NOT NULL,
     failcount SMALLINT NOT NULL DEFAULT 0)`,
  'CREATE INDEX IF NOT EXISTS file_to_delete2_nexttry ON file_to_delete2 (nexttry)',
  `CREATE TABLE IF NOT EXISTS file_to_queue (
     fid BIGINT NOT NULL,
     devid INTEGER,
     type SMALLINT NOT NULL,
     nexttry INTEGER NOT NULL,
     failcount SMALLINT NOT NULL DEFAULT 0,
     flags SMALLINT NOT NULL DEFAULT 0,
     arg TEXT,
     PRIMARY KEY (fid, type))`,
  'CREATE INDEX IF NOT EXISTS type_nexttry ON file_to_queue (type, nexttry)',
  `CREATE TABLE IF NOT EXISTS fsck_log (
     logid SERIAL PRIMARY KEY,
     utime INTEGER NOT NULL,
     fid BIGINT,
     evcode CHAR(4),
     devid INTEGER)`,
  'CREATE INDEX IF NOT EXISTS fsck_log_utime ON fsck_log (utime)',
  `CREATE TABLE IF NOT EXISTS checksum (
     fid BIGINT NOT NULL PRIMARY KEY,
     hashtype SMALLINT NOT NULL,
     checksum BYTEA NOT NULL)`,
  `CREATE TABLE IF NOT EXISTS mogile_counter (
     name VARCHAR(50) NOT NULL PRIMARY KEY,
     value BIGINT NOT NULL)`,
  // Singleton duties held by one tracker at a time (architecture.md §6, lease-queries.ts).
  `CREATE TABLE IF NOT EXISTS mogile_lease (
     name VARCHAR(50) NOT NULL PRIMARY KEY,
     holder VARCHAR(255) NOT NULL,
     expires_at BIGINT NOT NULL)`,
  // Per-class settings of ours; a class without a row is `durability=async`.
  `CREATE TABLE IF NOT EXISTS mogile_class_option (
     dmid SMALLINT NOT NULL,
     classid SMALLINT NOT NULL,
     durability VARCHAR(10) NOT NULL,
     PRIMARY KEY (dmid, classid))`,
];
