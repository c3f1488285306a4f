import { existsSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Perl DBI data source names (`db_dsn`, spec/behaviour.md §14) as the database URLs that
 * mogile's metadata store opens: `sqlite:PATH`, `mysql://HOST[:PORT]/DB`,
 * `postgres://HOST[:PORT]/DB`. Credentials stay in `db_user`/`db_pass`.
 */

const DB_URL = /^(?:sqlite:.+|(?:postgres|postgresql|mysql|mariadb):\/\/.+)$/i;

/** True for the URL forms the `db` setting accepts. */
export function isDatabaseUrl(url: string): boolean {
  return DB_URL.test(url);
}

/** Where MySQL's and MariaDB's client libraries look for the server's socket, in order. */
export const MYSQL_DEFAULT_SOCKETS: readonly string[] = [
  '/run/mysqld/mysqld.sock',
  '/var/run/mysqld/mysqld.sock',
  '/var/lib/mysql/mysql.sock',
  '/tmp/mysql.sock',
];
/** Where libpq looks for the server's socket folder, in order (Debian's, then upstream's). */
export const POSTGRES_DEFAULT_SOCKET_FOLDERS: readonly string[] = [
  '/var/run/postgresql',
  '/run/postgresql',
  '/tmp',
];

/**
 * The server's Unix socket where its client library looks when a DSN names no host: the
 * socket's path for MySQL, its folder for PostgreSQL (whose socket file is named after the
 * port); undefined when there is none.
 */
export type LocalSocketFinder = (
  server: 'mysql' | 'postgres',
  port: string | undefined,
) => string | undefined;

export const findLocalSocket: LocalSocketFinder = (server, port) =>
  server === 'mysql'
    ? MYSQL_DEFAULT_SOCKETS.find((path) => existsSync(path))
    : POSTGRES_DEFAULT_SOCKET_FOLDERS.find((folder) =>
        existsSync(join(folder, `.s.PGSQL.${port ?? 5432}`)),
      );

/** A database URL fit for a log: its password, if any, replaced by `***`. */
export function redactDatabaseUrl(url: string): string {
  if (url.startsWith('sqlite:')) return url;
  try {
    const parsed = new URL(url);
    if (parsed.password === '') return url;
    parsed.password = '***';
    return parsed.toString();
  } catch {
    return url.replace(/\/\/[^@/]*@/, '//***@');
  }
}

/** The URL for a DBI DSN, or an Error that says what is wrong with it. */
export function dsnToUrl(dsn: string, localSocket = findLocalSocket): string | Error {
  const match = /^dbi:(\w+):(.*)$/i.exec(dsn.trim());
  if (!match) return new Error(`expected "DBI:<driver>:<attributes>", found "${dsn}"`);
  const driver = match[1]!.toLowerCase();
  const attributes = match[2]!;
  if (driver === 'sqlite') return sqliteUrl(attributes, dsn);
  if (driver === 'mysql' || driver === 'mariadb') {
    return serverUrl('mysql', attributes, dsn, localSocket);
  }
  if (driver === 'pg') return serverUrl('postgres', attributes, dsn, localSocket);
  return new Error(`unsupported DBI driver "${match[1]}" (SQLite, mysql, MariaDB or Pg)`);
}

function sqliteUrl(attributes: string, dsn: string): string | Error {
  const fields = parseAttributes(attributes);
  const path = fields.get('dbname') ?? fields.get('database') ?? fields.get('db') ?? fields.get('');
  if (!path) return new Error(`no database file in "${dsn}"`);
  return `sqlite:${path}`;
}

/**
 * MySQL and PostgreSQL DSNs: `database=x;host=h;port=p`, or the old positional
 * `DBI:mysql:x:h:p` form.
 */
function serverUrl(
  scheme: 'mysql' | 'postgres',
  attributes: string,
  dsn: string,
  localSocket: LocalSocketFinder,
): string | Error {
  const fields = attributes.includes('=')
    ? parseAttributes(attributes)
    : positionalFields(attributes);
  const database =
    fields.get('database') ?? fields.get('dbname') ?? fields.get('db') ?? fields.get('');
  if (!database) return new Error(`no database name in "${dsn}"`);
  const port = fields.get('port');
  if (port !== undefined && !/^\d{1,5}$/.test(port)) return new Error(`bad port in "${dsn}"`);
  const known = new Set(['database', 'dbname', 'db', '', 'host', 'hostname', 'port']);
  const extra = new URLSearchParams([...fields].filter(([name]) => !known.has(name)));
  // An empty host is no host, to the drivers as here.
  const given = fields.get('host') || fields.get('hostname') || undefined;
  // Without a host, DBD::Pg's libpq uses the server's socket in its default folder; without
  // a host or with `localhost`, DBD::mysql's client library uses the default socket. Only
  // where no such socket exists does the tracker fall back to TCP on localhost.
  const mysqlSocket =
    extra.get('mysql_socket') ??
    (scheme === 'mysql' && (given === undefined || given.toLowerCase() === 'localhost')
      ? localSocket('mysql', port)
      : undefined);
  const named =
    given ?? (scheme === 'postgres' ? localSocket('postgres', port) : undefined) ?? 'localhost';
  // A Unix socket: DBD::Pg takes the socket's folder as the host, DBD::mysql the socket's
  // path as `mysql_socket`; the URLs carry them as `?host=` (as libpq's do) and `?socket=`.
  const socketFolder = scheme === 'postgres' && named.startsWith('/');
  if (socketFolder) extra.set('host', named);
  if (mysqlSocket !== undefined) {
    extra.delete('mysql_socket');
    extra.set('socket', mysqlSocket);
  }
  const host = socketFolder ? 'localhost' : named;
  const query = extra.size > 0 ? `?${extra}` : '';
  const authority = port === undefined ? host : `${host}:${port}`;
  return `${scheme}://${authority}/${encodeURIComponent(database)}${query}`;
}

/** `a=1;b=2` → {a: 1, b: 2}; a part without `=` is stored under the empty name. */
function parseAttributes(attributes: string): Map<string, string> {
  const fields = new Map<string, string>();
  for (const part of attributes.split(';')) {
    if (part.trim() === '') continue;
    const at = part.indexOf('=');
    if (at < 0) fields.set('', part.trim());
    else fields.set(part.slice(0, at).trim().toLowerCase(), part.slice(at + 1).trim());
  }
  return fields;
}

function positionalFields(attributes: string): Map<string, string> {
  const [database, host, port] = attributes.split(':');
  const fields = new Map<string, string>();
  if (database) fields.set('', database);
  if (host) fields.set('host', host);
  if (port) fields.set('port', port);
  return fields;
}
