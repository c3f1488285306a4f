import { describe, expect, it } from 'vitest';
import { parseConfigText } from '../cli/config-file.js';
import { loadTrackerConfig, parseListen, TrackerConfigError } from './config.js';
import { dsnToUrl, redactDatabaseUrl } from './db-dsn.js';

// The CLI's parser of the original file syntax, so these tests read real config text.
function fileOf(text: string) {
  return parseConfigText(text.replace(/^\s+/gm, ''), 'test.conf');
}

describe('loadTrackerConfig', () => {
  it('has the defaults of behaviour.md §14, frozen', () => {
    const config = loadTrackerConfig({ overrides: { debug: '0' } });
    expect(config).toMatchObject({
      listen: [{ host: '0.0.0.0', port: 7001 }],
      confPort: 7001,
      dbUser: 'mogile',
      dbPass: '',
      queryJobs: 20,
      replicateJobs: 1,
      deleteJobs: 1,
      fsckJobs: 1,
      reaperJobs: 1,
      jobMaster: true,
      minFreeSpaceMb: 100,
      defaultMindevcount: 2,
      nodeTimeoutMs: 2000,
      connTimeoutMs: 2000,
      mogstoredStreamPort: 7501,
      noSchemaCheck: false,
      idleTimeoutMs: 600_000,
      pipelineDepth: 1,
      debug: 0,
    });
    expect(Object.isFrozen(config)).toBe(true);
    expect(Object.isFrozen(config.listen)).toBe(true);
    expect(Object.isFrozen(config.listen[0])).toBe(true);
  });

  it('reads the original keys from a file', () => {
    const config = loadTrackerConfig({
      file: fileOf(`
        listen = 127.0.0.1:7101, 10.0.0.5
        conf_port = 7200
        db_dsn = DBI:SQLite:dbname=/var/lib/mogilefs.db
        db_user = mog
        db_pass = s3cret
        query_jobs 8
        replicate_jobs = 3
        job_master = 0
        min_free_space = 512
        default_mindevcount = 3
        node_timeout = 1.5
        conn_timeout = 4
        mogstored_stream_port = 7601
        repl_use_get_port = 1
        no_schema_check = 1
        plugins = FilePaths, MetaData
        idle_timeout = 0.25
      `),
    });
    expect(config).toMatchObject({
      listen: [
        { host: '127.0.0.1', port: 7101 },
        { host: '10.0.0.5', port: 7200 },
      ],
      dbUrl: 'sqlite:/var/lib/mogilefs.db',
      dbUser: 'mog',
      dbPass: 's3cret',
      queryJobs: 8,
      replicateJobs: 3,
      jobMaster: false,
      minFreeSpaceMb: 512,
      defaultMindevcount: 3,
      nodeTimeoutMs: 1500,
      connTimeoutMs: 4000,
      mogstoredStreamPort: 7601,
      replUseGetPort: true,
      noSchemaCheck: true,
      plugins: ['FilePaths', 'MetaData'],
      idleTimeoutMs: 250,
    });
  });

  it('lets the command line win over the file, and listener_jobs over query_jobs', () => {
    const config = loadTrackerConfig({
      file: fileOf('listen = 10.0.0.1:7001\nquery_jobs = 5\nlistener_jobs = 7\ndb = sqlite:a.db'),
      overrides: {
        listen: ['127.0.0.1:0', '127.0.0.2:0'],
        mogstored_stream_port: '7502',
        db: 'sqlite:/tmp/b.db',
      },
    });
    expect(config.listen).toEqual([
      { host: '127.0.0.1', port: 0 },
      { host: '127.0.0.2', port: 0 },
    ]);
    expect(config.queryJobs).toBe(7);
    expect(config.mogstoredStreamPort).toBe(7502);
    expect(config.dbUrl).toBe('sqlite:/tmp/b.db');
  });

  it('warns about unknown keys in a file and refuses them on the command line', () => {
    const warnings: string[] = [];
    loadTrackerConfig({
      file: fileOf('frobnicate = 1'),
      fileName: 'm.conf',
      warn: (message) => warnings.push(message),
    });
    expect(warnings).toEqual(['unknown setting "frobnicate" in m.conf line 1 is ignored']);
    expect(() => loadTrackerConfig({ overrides: { frobnicate: '1' } })).toThrow(/frobnicate/);
  });

  it.each([
    ['query_jobs', 'many'],
    ['query_jobs', '0'],
    ['conf_port', '70000'],
    ['mogstored_stream_port', ''],
    ['node_timeout', '-1'],
    ['job_master', 'perhaps'],
    ['db', 'oracle:x'],
    ['db_dsn', 'DBI:Oracle:x'],
    ['listen', 'a:b:c:d:e:f:g:h:i:zz'],
    ['listen', '127.0.0.1:99999'],
    ['idle_timeout', '1m'],
    ['default_mindevcount', '0'],
  ])('stops on %s = %j with a message naming the key', (key, value) => {
    expect(() =>
      loadTrackerConfig({ file: [{ key, value, line: 4 }], fileName: 'x.conf' }),
    ).toThrow(TrackerConfigError);
    expect(() => loadTrackerConfig({ overrides: { [key]: value } })).toThrow(new RegExp(key));
  });

  it('accepts obsolete keys silently', () => {
    const warnings: string[] = [];
    loadTrackerConfig({
      file: fileOf('no_http = 1\nworkerport = 7002\nmonitor_jobs = 1'),
      warn: (message) => warnings.push(message),
    });
    expect(warnings).toEqual([]);
  });

  it('reads the deadline and pool keys, and keeps stale_reply_after above request_timeout', () => {
    const defaults = loadTrackerConfig();
    expect(defaults).toMatchObject({
      requestTimeoutMs: 2000,
      staleReplyAfterMs: 2500,
      abandonedAfterMs: 100,
      dbPoolSize: 8,
      dbQueueTimeoutMs: 1000,
      dbQueueLimit: 256,
    });
    const set = loadTrackerConfig({
      overrides: { request_timeout: '1', stale_reply_after: '1.5', db_pool_size: '3' },
    });
    expect(set).toMatchObject({ requestTimeoutMs: 1000, staleReplyAfterMs: 1500, dbPoolSize: 3 });
    expect(() => loadTrackerConfig({ overrides: { stale_reply_after: '1' } })).toThrow(
      /stale_reply_after.*request_timeout/,
    );
    expect(() => loadTrackerConfig({ overrides: { request_timeout: '0' } })).toThrow(
      TrackerConfigError,
    );
    expect(() => loadTrackerConfig({ overrides: { db_pool_size: '0' } })).toThrow(/db_pool_size/);
  });
});

describe('parseListen', () => {
  it.each([
    ['127.0.0.1:7001', { host: '127.0.0.1', port: 7001 }],
    ['127.0.0.1', { host: '127.0.0.1', port: 7300 }],
    ['0.0.0.0:0', { host: '0.0.0.0', port: 0 }],
    ['[::1]:7001', { host: '::1', port: 7001 }],
    ['[::1]', { host: '::1', port: 7300 }],
    ['::', { host: '::', port: 7300 }],
    ['localhost:7', { host: 'localhost', port: 7 }],
  ])('%s', (spec, address) => {
    expect(parseListen(spec, 7300)).toEqual(address);
  });

  it.each(['', ':7001', '1.2.3.4:', '1.2.3.4:x'])('refuses %j', (spec) => {
    expect(() => parseListen(spec, 7001)).toThrow(TrackerConfigError);
  });
});

describe('dsnToUrl', () => {
  it.each([
    ['DBI:SQLite:dbname=/data/m.db', 'sqlite:/data/m.db'],
    ['dbi:SQLite:/data/m.db', 'sqlite:/data/m.db'],
    ['DBI:mysql:mogilefs', 'mysql://localhost/mogilefs'],
    ['DBI:mysql:mogilefs:db1:3307', 'mysql://db1:3307/mogilefs'],
    ['DBI:mysql:database=mogilefs;host=db1;port=3306', 'mysql://db1:3306/mogilefs'],
    [
      'DBI:mysql:database=mogilefs;host=db1;mysql_connect_timeout=2',
      'mysql://db1/mogilefs?mysql_connect_timeout=2',
    ],
    ['DBI:Pg:dbname=mogilefs;host=pg.local', 'postgres://pg.local/mogilefs'],
    [
      'DBI:Pg:dbname=mogilefs;host=/var/run/postgresql',
      'postgres://localhost/mogilefs?host=%2Fvar%2Frun%2Fpostgresql',
    ],
    [
      'DBI:Pg:dbname=mogilefs;host=/tmp;port=5433',
      'postgres://localhost:5433/mogilefs?host=%2Ftmp',
    ],
    [
      'DBI:mysql:database=mogilefs;mysql_socket=/run/mysqld/mysqld.sock',
      'mysql://localhost/mogilefs?socket=%2Frun%2Fmysqld%2Fmysqld.sock',
    ],
  ])('%s → %s (no socket in the default places)', (dsn, url) => {
    expect(dsnToUrl(dsn, () => undefined)).toBe(url);
  });

  // As DBD::mysql and DBD::Pg do: no host (or, for MySQL, `localhost`) means the server's
  // socket where the client library looks by default.
  const sockets = (server: 'mysql' | 'postgres', port: string | undefined) =>
    server === 'mysql' ? '/run/mysqld/mysqld.sock' : port === '5433' ? '/tmp' : '/run/postgresql';
  it.each([
    ['DBI:mysql:mogilefs', 'mysql://localhost/mogilefs?socket=%2Frun%2Fmysqld%2Fmysqld.sock'],
    [
      'DBI:mysql:database=mogilefs;host=LocalHost;port=3307',
      'mysql://LocalHost:3307/mogilefs?socket=%2Frun%2Fmysqld%2Fmysqld.sock',
    ],
    ['DBI:mysql:database=mogilefs;host=127.0.0.1', 'mysql://127.0.0.1/mogilefs'],
    [
      'DBI:mysql:database=mogilefs;mysql_socket=/var/lib/mysql/other.sock',
      'mysql://localhost/mogilefs?socket=%2Fvar%2Flib%2Fmysql%2Fother.sock',
    ],
    ['DBI:Pg:dbname=mogilefs', 'postgres://localhost/mogilefs?host=%2Frun%2Fpostgresql'],
    ['DBI:Pg:dbname=mogilefs;port=5433', 'postgres://localhost:5433/mogilefs?host=%2Ftmp'],
    ['DBI:Pg:dbname=mogilefs;host=localhost', 'postgres://localhost/mogilefs'],
    ['DBI:Pg:dbname=mogilefs;host=', 'postgres://localhost/mogilefs?host=%2Frun%2Fpostgresql'],
    [
      'DBI:mysql:database=mogilefs;host=',
      'mysql://localhost/mogilefs?socket=%2Frun%2Fmysqld%2Fmysqld.sock',
    ],
  ])('%s → %s (sockets in the default places)', (dsn, url) => {
    expect(dsnToUrl(dsn, sockets)).toBe(url);
  });

  it.each(['mysql:mogilefs', 'DBI:SQLite:', 'DBI:Pg:host=x', 'DBI:mysql:db;port=x'])(
    'refuses %j',
    (dsn) => {
      expect(dsnToUrl(dsn, () => undefined)).toBeInstanceOf(Error);
    },
  );
});

describe('redactDatabaseUrl', () => {
  it.each([
    ['postgres://mogile:s3cret@db1:5432/mogilefs', 'postgres://mogile:***@db1:5432/mogilefs'],
    [
      'mysql://root@localhost/m?socket=%2Frun%2Fm.sock',
      'mysql://root@localhost/m?socket=%2Frun%2Fm.sock',
    ],
    ['sqlite:/var/lib/mogile.db', 'sqlite:/var/lib/mogile.db'],
  ])('%s → %s', (url, logged) => {
    expect(redactDatabaseUrl(url)).toBe(logged);
  });
});
