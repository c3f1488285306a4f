/**
 * MogileFS schema 17 for MySQL and MariaDB (spec/metadata-schema.md §1), InnoDB. Keys and
 * names use a binary collation, so they are case-sensitive and sort byte-wise (the
 * original inherits MySQL's case-insensitive default, behaviour.md §15).
 */
const TABLE = 'ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin';

/**
 * Binary collations that also count trailing spaces (NO PAD), MySQL 8's and MariaDB's, in
 * the order tried. `utf8mb4_bin` ignores them: with it `foo ` and `foo` would be one key.
 */
export const EXACT_KEY_COLLATIONS: readonly string[] = ['utf8mb4_0900_bin', 'utf8mb4_nopad_bin'];

/**
 * The schema's statements, the file keys (`file.dkey`, `tempfile.dkey`) in `keyCollation`
 * when the server has one of EXACT_KEY_COLLATIONS (older servers: the table's).
 */
export function mysqlSchema(keyCollation?: string): string[] {
  const key =
    keyCollation === undefined ? 'dkey VARCHAR(255)' : `dkey VARCHAR(255) COLLATE ${keyCollation}`;
  return MYSQL_SCHEMA.map((statement) => statement.replace('dkey VARCHAR(255)', key));
}

const MYSQL_SCHEMA: readonly string[] = [
  `CREATE TABLE IF NOT EXISTS domain (
     dmid SMALLINT UNSIGNED NOT NULL PRIMARY KEY,
     namespace VARCHAR(255),
     UNIQUE (namespace)) ${TABLE}`,
  `CREATE TABLE IF NOT EXISTS class (
     dmid SMALLINT UNSIGNED NOT NULL,
     classid TINYINT UNSIGNED NOT NULL,
     classname VARCHAR(50),
     mindevcount TINYINT UNSIGNED NOT NULL,
     replpolicy VARCHAR(255),
     hashtype TINYINT UNSIGNED,
     PRIMARY KEY (dmid, classid),
     UNIQUE (dmid, classname)) ${TABLE}`,
  `CREATE TABLE IF NOT EXISTS file (
     fid BIGINT UNSIGNED NOT NULL PRIMARY KEY,
     dmid SMALLINT UNSIGNED NOT NULL,
     dkey VARCHAR(255),
     length BIGINT UNSIGNED,
     classid TINYINT UNSIGNED NOT NULL,
     devcount TINYINT UNSIGNED NOT NULL,
     UNIQUE dkey (dmid, dkey),
     INDEX devcount (dmid, classid, devcount)) ${TABLE}`,
  `CREATE TABLE IF NOT EXISTS tempfile (
     fid BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
     createtime INT UNSIGNED NOT NULL,
     classid TINYINT UNSIGNED NOT NULL,
     dmid SMALLINT UNSIGNED NOT NULL,
     dkey VARCHAR(255),
     devids VARCHAR(60)) ${TABLE}`,
  `CREATE TABLE IF NOT EXISTS file_on (
     fid BIGINT UNSIGNED NOT NULL,
     devid MEDIUMINT UNSIGNED NOT NULL,
     PRIMARY KEY (fid, devid),
     INDEX (devid)) ${TABLE}`,
  `CREATE TABLE IF NOT EXISTS file_on_corrupt (
     fid BIGINT UNSIGNED NOT NULL,
     devid MEDIUMINT UNSIGNED NOT NULL,
     PRIMARY KEY (fid, devid)) ${TABLE}`,
  `CREATE TABLE IF NOT EXISTS unreachable_fids (
     fid BIGINT UNSIGNED NOT NULL PRIMARY KEY,
     lastupdate INT UNSIGNED NOT NULL,
     INDEX (lastupdate)) ${TABLE}`,
  `CREATE TABLE IF NOT EXISTS host (
     hostid MEDIUMINT UNSIGNED NOT NULL PRIMARY KEY,
     status ENUM('alive','dead','down','readonly'),
     http_port MEDIUMINT UNSIGNED DEFAULT 7500,
     http_get_port MEDIUMINT UNSIGNED,
     hostname VARCHAR(40),
     hostip VARCHAR(15),
     altip VARCHAR(15),
     altmask VARCHAR(18),
     UNIQUE (hostname)) ${TABLE}`,
  `CREATE TABLE IF NOT EXISTS device (
     devid MEDIUMINT UNSIGNED NOT NULL PRIMARY KEY,
     hostid MEDIUMINT UNSIGNED NOT NULL,
     status ENUM('alive','dead','down','readonly','drain'),
     weight MEDIUMINT DEFAULT 100,
     mb_total INT UNSIGNED,
     mb_used INT UNSIGNED,
     mb_asof INT UNSIGNED,
     INDEX (status)) ${TABLE}`,
  `CREATE TABLE IF NOT EXISTS server_settings (
     field VARCHAR(50) PRIMARY KEY,
     value TEXT) ${TABLE}`,
  `CREATE TABLE IF NOT EXISTS file_to_replicate (
     fid BIGINT UNSIGNED NOT NULL PRIMARY KEY,
     nexttry INT UNSIGNED NOT NULL,
     fromdevid INT UNSIGNED,
     failcount TINYINT UNSIGNED NOT NULL DEFAULT 0,
     flags SMALLINT UNSIGNED NOT NULL DEFAULT 0,
     INDEX (nexttry)) ${TABLE}`,
  `CREATE TABLE IF NOT EXISTS file_to_delete (
     fid BIGINT UNSIGNED NOT NULL PRIMARY KEY) ${TABLE}`,
  `CREATE TABLE IF NOT EXISTS file_to_delete_later (
     fid BIGINT UNSIGNED NOT NULL PRIMARY KEY,
     delafter INT UNSIGNED NOT NULL,
     INDEX (delafter)) ${TABLE}`,
  `CREATE TABLE IF NOT EXISTS file_to_delete2 (
     fid BIGINT UNSIGNED NOT NULL PRIMARY KEY,
     nexttry INT UNSIGNED NOT NULL,
     failcount TINYINT UNSIGNED NOT NULL DEFAULT 0,
     INDEX (nexttry)) ${TABLE}`,
  `CREATE TABLE IF NOT EXISTS file_to_queue (
     fid BIGINT UNSIGNED NOT NULL,
     devid INT UNSIGNED,
     type TINYINT UNSIGNED NOT NULL,
     nexttry INT UNSIGNED NOT NULL,
     failcount TINYINT UNSIGNED NOT NULL DEFAULT 0,
     flags SMALLINT UNSIGNED NOT NULL DEFAULT 0,
     arg TEXT,
     PRIMARY KEY (fid, type),
     INDEX type_nexttry (type, nexttry)) ${TABLE}`,
  `CREATE TABLE IF NOT EXISTS fsck_log (
     logid INT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
     utime INT UNSIGNED NOT NULL,
     fid BIGINT UNSIGNED,
     evcode CHAR(4),
     devid MEDIUMINT UNSIGNED,
     INDEX (utime)) ${TABLE}`,
  `CREATE TABLE IF NOT EXISTS checksum (
     fid BIGINT UNSIGNED NOT NULL PRIMARY KEY,
     hashtype TINYINT UNSIGNED NOT NULL,
     checksum VARBINARY(64) NOT NULL) ${TABLE}`,
  `CREATE TABLE IF NOT EXISTS mogile_counter (
     name VARCHAR(50) NOT NULL PRIMARY KEY,
     value BIGINT UNSIGNED NOT NULL) ${TABLE}`,
  // Singleton duties held by one tracker at a time (architecture.md §6, lease-queries.ts).
  `CREATE TABLE IF NOT EXISTS mogile_lease (
     name VARCHAR(50) NOT NULL PRIMARY KEY,
     holder VARCHAR(255) NOT NULL,
     expires_at BIGINT NOT NULL) ${TABLE}`,
  // Per-class settings of ours; a class without a row is `durability=async`.
  `CREATE TABLE IF NOT EXISTS mogile_class_option (
     dmid SMALLINT UNSIGNED NOT NULL,
     classid TINYINT UNSIGNED NOT NULL,
     durability VARCHAR(10) NOT NULL,
     PRIMARY KEY (dmid, classid)) ${TABLE}`,
];
