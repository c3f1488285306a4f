/**
 * MogileFS schema 17 for SQLite (spec/metadata-schema.md §1): ENUMs become TEXT,
 * auto-increment columns `INTEGER PRIMARY KEY AUTOINCREMENT`. Every statement is
 * idempotent so creating the schema twice is harmless. `host.hostip` is not unique: several
 * storage nodes may share one address on different ports (as `mogile dev` runs them).
 */
export const SQLITE_SCHEMA: readonly string[] = [
  `CREATE TABLE IF NOT EXISTS domain (
     dmid SMALLINT UNSIGNED NOT NULL PRIMARY KEY,
     namespace VARCHAR(255),
     UNIQUE (namespace))`,
  `CREATE TABLE IF NOT EXISTS class (
     dmid SMALLINT UNSIGNED NOT NULL,
     classid TINYINT UNSIGNED NOT NULL,
     classname VARCHAR(50),
     mindevcount TINYINT UNSIGNED NOT NULL,
     replpolicy VARCHAR(255),
     hashtype TINYINT UNSIGNED,
     UNIQUE (dmid, classid),
     UNIQUE (dmid, classname))`,
  `CREATE TABLE IF NOT EXISTS file (
     fid BIGINT NOT NULL PRIMARY KEY,
     dmid SMALLINT UNSIGNED NOT NULL,
     dkey VARCHAR(255),
     length BIGINT,
     classid TINYINT UNSIGNED NOT NULL,
     devcount TINYINT UNSIGNED NOT NULL,
     UNIQUE (dmid, dkey))`,
  'CREATE INDEX IF NOT EXISTS devcount ON file (dmid, classid, devcount)',
  `CREATE TABLE IF NOT EXISTS tempfile (
     fid INTEGER PRIMARY KEY AUTOINCREMENT,
     createtime INT UNSIGNED NOT NULL,
     classid TINYINT UNSIGNED NOT NULL,
     dmid SMALLINT UNSIGNED NOT NULL,
     dkey VARCHAR(255),
     devids VARCHAR(60))`,
  `CREATE TABLE IF NOT EXISTS file_on (
     fid BIGINT NOT NULL,
     devid MEDIUMINT UNSIGNED NOT NULL,
     PRIMARY KEY (fid, devid))`,
  'CREATE INDEX IF NOT EXISTS file_on_devid ON file_on (devid)',
  `CREATE TABLE IF NOT EXISTS file_on_corrupt (
     fid BIGINT NOT NULL,
     devid MEDIUMINT UNSIGNED NOT NULL,
     PRIMARY KEY (fid, devid))`,
  `CREATE TABLE IF NOT EXISTS unreachable_fids (
     fid BIGINT NOT NULL PRIMARY KEY,
     lastupdate INT UNSIGNED NOT NULL)`,
  'CREATE INDEX IF NOT EXISTS unreachable_lastupdate ON unreachable_fids (lastupdate)',
  `CREATE TABLE IF NOT EXISTS host (
     hostid MEDIUMINT UNSIGNED NOT NULL PRIMARY KEY,
     status TEXT,
     http_port MEDIUMINT UNSIGNED DEFAULT 7500,
     http_get_port MEDIUMINT UNSIGNED,
     hostname VARCHAR(40),
     hostip VARCHAR(15),
     altip VARCHAR(15),
     altmask VARCHAR(18),
     UNIQUE (hostname))`,
  `CREATE TABLE IF NOT EXISTS device (
     devid MEDIUMINT UNSIGNED NOT NULL,
     hostid MEDIUMINT UNSIGNED NOT NULL,
     status TEXT,
     weight MEDIUMINT DEFAULT 100,
     mb_total INT UNSIGNED,
     mb_used INT UNSIGNED,
     mb_asof INT UNSIGNED,
     PRIMARY KEY (devid))`,
  'CREATE INDEX IF NOT EXISTS device_status ON device (status)',
  `CREATE TABLE IF NOT EXISTS server_settings (
     field VARCHAR(50) PRIMARY KEY,
     value TEXT)`,
  `CREATE TABLE IF NOT EXISTS file_to_replicate (
     fid BIGINT NOT NULL PRIMARY KEY,
     nexttry INT UNSIGNED NOT NULL,
     fromdevid INT UNSIGNED,
     failcount TINYINT UNSIGNED NOT NULL DEFAULT 0,
     flags SMALLINT UNSIGNED NOT NULL DEFAULT 0)`,
  'CREATE INDEX IF NOT EXISTS file_to_replicate_nexttry ON file_to_replicate (nexttry)',
  `CREATE TABLE IF NOT EXISTS file_to_delete (
     fid BIGINT NOT NULL PRIMARY KEY)`,
  `CREATE TABLE IF NOT EXISTS file_to_delete_later (
     fid BIGINT NOT NULL PRIMARY KEY,
     delafter INT UNSIGNED NOT NULL)`,
  'CREATE INDEX IF NOT EXISTS file_to_delete_later_delafter ON file_to_delete_later (delafter)',
  `CREATE TABLE IF NOT EXISTS file_to_delete2 (
     fid BIGINT NOT NULL PRIMARY KEY,
     nexttry INT UNSIGNED NOT NULL,
     failcount TINYINT UNSIGNED NOT NULL DEFAULT 0)`,
  'CREATE INDEX IF NOT EXISTS file_to_delete2_nexttry ON file_to_delete2 (nexttry)',
  `CREATE TABLE IF NOT EXISTS file_to_queue (
     fid BIGINT NOT NULL,
     devid INT UNSIGNED,
     type TINYINT UNSIGNED NOT NULL,
     nexttry INT UNSIGNED NOT NULL,
     failcount TINYINT UNSIGNED NOT NULL DEFAULT 0,
     flags SMALLINT UNSIGNED NOT NULL DEFAULT 0,
     arg TEXT,
     PRIMARY KEY (fid, type))`,
  'CREATE INDEX IF NOT EXISTS type_nexttry ON file_to_queue (type, nexttry)',
  `CREATE TABLE IF NOT EXISTS fsck_log (
     logid INTEGER PRIMARY KEY AUTOINCREMENT,
     utime INT UNSIGNED NOT NULL,
     fid BIGINT,
     evcode CHAR(4),
     devid MEDIUMINT UNSIGNED)`,
  'CREATE INDEX IF NOT EXISTS fsck_log_utime ON fsck_log (utime)',
  `CREATE TABLE IF NOT EXISTS checksum (
     fid BIGINT NOT NULL PRIMARY KEY,
     hashtype TINYINT UNSIGNED NOT NULL,
     checksum VARBINARY(64) NOT NULL)`,
  `CREATE TABLE IF NOT EXISTS lock (
     lockid INT UNSIGNED NOT NULL PRIMARY KEY,
     hostname VARCHAR(255) NOT NULL,
     pid INT UNSIGNED NOT NULL,
     acquiredat INT UNSIGNED NOT NULL)`,
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
     dmid SMALLINT UNSIGNED NOT NULL,
     classid TINYINT UNSIGNED NOT NULL,
     durability VARCHAR(10) NOT NULL,
     PRIMARY KEY (dmid, classid))`,
];
