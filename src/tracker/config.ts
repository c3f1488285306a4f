import { dsnToUrl, isDatabaseUrl } from './db-dsn.js';
import { isNetwork } from './network-allow-list.js';

/** One address the tracker listens on. Port 0 picks a free port. */
export interface ListenAddress {
  readonly host: string;
  readonly port: number;
}

/**
 * The tracker's settings (spec/behaviour.md §14 plus mogile's own keys), validated and
 * frozen when loaded.
 */
export interface TrackerConfig {
  readonly listen: readonly ListenAddress[];
  readonly confPort: number;
  /** `sqlite:PATH`, `mysql://…` or `postgres://…` (from `db`, or `db_dsn` translated). */
  readonly dbUrl: string;
  readonly dbUser: string;
  readonly dbPass: string;
  readonly queryJobs: number;
  readonly replicateJobs: number;
  readonly deleteJobs: number;
  readonly fsckJobs: number;
  readonly reaperJobs: number;
  readonly jobMaster: boolean;
  readonly minFreeSpaceMb: number;
  readonly defaultMindevcount: number;
  readonly nodeTimeoutMs: number;
  readonly connTimeoutMs: number;
  readonly connPoolSize: number;
  readonly mogstoredStreamPort: number;
  /** Replication asks the destination node to fetch each copy itself (docs/storage-node.md). */
  readonly copiesBetweenNodes: boolean;
  readonly replUseGetPort: boolean;
  readonly rebalanceIgnoreMissing: boolean;
  readonly maxHandles: number;
  readonly pidfile: string | undefined;
  readonly daemonize: boolean;
  readonly user: string;
  readonly debug: number;
  readonly noSchemaCheck: boolean;
  readonly plugins: readonly string[];
  /** Accepted for compatibility; unused by the original's core too. */
  readonly maxDiskAge: number;
  readonly localNetwork: string;
  /** The HTTP side (dashboard, status, metrics, gateway); undefined when `none`. */
  readonly httpListen: ListenAddress | undefined;
  /** How often the HTTP side samples the time series the dashboard draws. */
  readonly httpSampleIntervalMs: number;
  /** How `GET /file/…` answers by default: stream it, or hand it to a proxy. */
  readonly gatewayReproxy: GatewayReproxy;
  /** The internal nginx location that `X-Accel-Redirect` points into. */
  readonly gatewayNginxPrefix: string;
  /** Larger files are checked in a first read, then streamed in a second one. */
  readonly gatewayBufferMaxBytes: number;
  /** Idle connections are closed between requests after this long; 0 never closes. */
  readonly idleTimeoutMs: number;
  /** Requests of one connection that may run at once; 1 keeps spec §4's strict order. */
  readonly pipelineDepth: number;
  /** How long a graceful stop waits for in-flight requests before cutting them off. */
  readonly shutdownTimeoutMs: number;
  /** Each request's deadline, from its arrival; a read past it answers `ERR timeout`. */
  readonly requestTimeoutMs: number;
  /** A reply that would leave later than this after its request closes the connection. */
  readonly staleReplyAfterMs: number;
  /**
   * A request that arrives while an earlier one has waited this long with no reply means
   * the client gave up on it (client-expectations.md §9.2, PHP); the connection closes.
   * 0 turns the check off.
   */
  readonly abandonedAfterMs: number;
  /** Connections in the tracker's one database pool (architecture.md §5). */
  readonly dbPoolSize: number;
  /** The longest a request waits for a free database connection before `ERR db_busy`. */
  readonly dbQueueTimeoutMs: number;
  /** Requests that may wait for a database connection; more get `ERR db_busy` at once. */
  readonly dbQueueLimit: number;
  /** Hot statements prepared once per connection (PostgreSQL). */
  readonly dbPreparedStatements: boolean;
  /** Signs the storage URLs the tracker hands out and requests (docs/security.md). */
  readonly secret: string | undefined;
  /** Seconds a signed URL stays valid. */
  readonly secretExpirySeconds: number;
  /**
   * Networks (CIDR or single addresses) allowed to run commands that change the cluster;
   * empty allows everyone, as the original does.
   */
  readonly adminNetworks: readonly string[];
}

export const GATEWAY_REPROXY_MODES = ['off', 'perlbal', 'nginx'] as const;
export type GatewayReproxy = (typeof GATEWAY_REPROXY_MODES)[number];

export const DEFAULT_HTTP_PORT = 7002;

export class TrackerConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TrackerConfigError';
  }
}

/** A `key value` setting from a config file (structurally the CLI's ConfigEntry). */
export interface ConfigSetting {
  readonly key: string;
  readonly value: string;
  readonly line?: number;
}

export interface LoadTrackerConfigOptions {
  /** Settings read from a mogilefsd.conf-style file, in file order. */
  readonly file?: readonly ConfigSetting[];
  /** Where `file` came from, for messages. */
  readonly fileName?: string;
  /** Command-line settings by config key; they win over the file. Arrays repeat a key. */
  readonly overrides?: Readonly<Record<string, string | readonly string[]>>;
  /** Receives warnings (unknown keys); defaults to stderr. */
  readonly warn?: (message: string) => void;
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };
type Draft = Mutable<Omit<TrackerConfig, 'listen'>> & {
  listenSpecs: string[] | undefined;
  listenerJobs: number | undefined;
};
type Apply = (draft: Draft, value: string) => string | undefined;

export const DEFAULT_TRACKER_PORT = 7001;

function defaults(): Draft {
  return {
    listenSpecs: undefined,
    confPort: DEFAULT_TRACKER_PORT,
    dbUrl: 'sqlite:mogilefs.db',
    dbUser: 'mogile',
    dbPass: '',
    queryJobs: 20,
    listenerJobs: undefined,
    replicateJobs: 1,
    deleteJobs: 1,
    fsckJobs: 1,
    reaperJobs: 1,
    jobMaster: true,
    minFreeSpaceMb: 100,
    defaultMindevcount: 2,
    nodeTimeoutMs: 2000,
    connTimeoutMs: 2000,
    connPoolSize: 20,
    mogstoredStreamPort: 7501,
    copiesBetweenNodes: true,
    replUseGetPort: false,
    rebalanceIgnoreMissing: false,
    maxHandles: 0,
    pidfile: undefined,
    daemonize: false,
    user: '',
    debug: Number(process.env['DEBUG']) || 0,
    noSchemaCheck: false,
    plugins: [],
    maxDiskAge: 5,
    localNetwork: '',
    httpListen: { host: '0.0.0.0', port: DEFAULT_HTTP_PORT },
    httpSampleIntervalMs: 5000,
    gatewayReproxy: 'off',
    gatewayNginxPrefix: '/reproxy',
    gatewayBufferMaxBytes: 16 * 1024 * 1024,
    idleTimeoutMs: 600_000,
    pipelineDepth: 1,
    shutdownTimeoutMs: 30_000,
    requestTimeoutMs: 2000,
    staleReplyAfterMs: 2500,
    abandonedAfterMs: 100,
    dbPoolSize: 8,
    dbQueueTimeoutMs: 1000,
    dbQueueLimit: 256,
    dbPreparedStatements: true,
    secret: undefined,
    secretExpirySeconds: 3600,
    adminNetworks: [],
  };
}

// Each parser returns the value, or undefined when the text is invalid.
const integer =
  (min: number, max = Number.MAX_SAFE_INTEGER) =>
  (text: string) => {
    const value = /^\s*\d+\s*$/.test(text) ? Number(text) : Number.NaN;
    return value >= min && value <= max ? value : undefined;
  };
const secondsAsMs = (text: string) => {
  const value = /^\s*\d+(\.\d+)?\s*$/.test(text) ? Number(text) * 1000 : Number.NaN;
  return Number.isFinite(value) ? Math.round(value) : undefined;
};
const boolean = (text: string) => {
  const lower = text.trim().toLowerCase();
  if (['1', 'true', 'yes', 'on', ''].includes(lower)) return true;
  if (['0', 'false', 'no', 'off'].includes(lower)) return false;
  return undefined;
};
const positiveSecondsAsMs = (text: string) => {
  const ms = secondsAsMs(text);
  return ms !== undefined && ms > 0 ? ms : undefined;
};
const text = (value: string) => value;

/** Binds a parser to a field; the message says what was expected. */
function field<K extends keyof Draft>(
  name: K,
  parse: (text: string) => Draft[K] | undefined,
  expected: string,
): Apply {
  return (draft, value) => {
    const parsed = parse(value);
    if (parsed === undefined) return expected;
    draft[name] = parsed;
    return undefined;
  };
}

const PORT = 'a port number from 1 to 65535';
const COUNT = 'a whole number of at least 1';
const NUMBER = 'a whole number';
const SECONDS = 'a number of seconds';
const POSITIVE_SECONDS = 'a number of seconds above 0';
const BOOLEAN = '1 or 0 (true/false, yes/no, on/off)';

/** Every key the tracker reads, by its config-file name. */
export const TRACKER_CONFIG_KEYS: Readonly<Record<string, Apply>> = {
  listen: (draft, value) => {
    draft.listenSpecs = splitList(value);
    return undefined;
  },
  conf_port: field('confPort', integer(1, 65535), PORT),
  db: (draft, value) => {
    if (!isDatabaseUrl(value)) return 'a database URL: sqlite:PATH, postgres://… or mysql://…';
    draft.dbUrl = value;
    return undefined;
  },
  db_dsn: (draft, value) => {
    const url = dsnToUrl(value);
    if (url instanceof Error) return url.message;
    draft.dbUrl = url;
    return undefined;
  },
  db_user: field('dbUser', text, ''),
  db_pass: field('dbPass', text, ''),
  query_jobs: field('queryJobs', integer(1, 500), COUNT),
  listener_jobs: field('listenerJobs', integer(1, 500), COUNT),
  replicate_jobs: field('replicateJobs', integer(0, 500), NUMBER),
  delete_jobs: field('deleteJobs', integer(0, 500), NUMBER),
  fsck_jobs: field('fsckJobs', integer(0, 500), NUMBER),
  reaper_jobs: field('reaperJobs', integer(0, 500), NUMBER),
  monitor_jobs: () => undefined,
  job_master: field('jobMaster', boolean, BOOLEAN),
  min_free_space: field('minFreeSpaceMb', integer(0), NUMBER),
  default_mindevcount: field('defaultMindevcount', integer(1, 255), 'a whole number from 1 to 255'),
  node_timeout: field('nodeTimeoutMs', secondsAsMs, SECONDS),
  conn_timeout: field('connTimeoutMs', secondsAsMs, SECONDS),
  conn_pool_size: field('connPoolSize', integer(1), COUNT),
  mogstored_stream_port: field('mogstoredStreamPort', integer(1, 65535), PORT),
  copies_between_nodes: field('copiesBetweenNodes', boolean, BOOLEAN),
  repl_use_get_port: field('replUseGetPort', boolean, BOOLEAN),
  rebalance_ignore_missing: field('rebalanceIgnoreMissing', boolean, BOOLEAN),
  max_handles: field('maxHandles', integer(0), NUMBER),
  pidfile: field('pidfile', (value) => value || undefined, 'a file path'),
  daemonize: field('daemonize', boolean, BOOLEAN),
  user: field('user', text, ''),
  debug: field('debug', integer(0), NUMBER),
  no_schema_check: field('noSchemaCheck', boolean, BOOLEAN),
  plugins: (draft, value) => {
    draft.plugins = splitList(value);
    return undefined;
  },
  max_disk_age: field('maxDiskAge', integer(0), NUMBER),
  local_network: field('localNetwork', text, ''),
  http_listen: (draft, value) => {
    const address = value === 'none' ? undefined : parseHttpListen(value);
    if (value !== 'none' && address === undefined) return 'IP[:PORT] or none';
    draft.httpListen = address;
    return undefined;
  },
  http_sample_interval: field('httpSampleIntervalMs', positiveSecondsAsMs, POSITIVE_SECONDS),
  gateway_reproxy: field(
    'gatewayReproxy',
    (value) => GATEWAY_REPROXY_MODES.find((mode) => mode === value.toLowerCase()),
    GATEWAY_REPROXY_MODES.join(', '),
  ),
  gateway_nginx_prefix: field(
    'gatewayNginxPrefix',
    (value) => (/^\/[A-Za-z0-9._~/-]*$/.test(value) ? value.replace(/\/+$/, '') : undefined),
    'a location path starting with /',
  ),
  gateway_buffer_max: field('gatewayBufferMaxBytes', integer(0), 'a number of bytes'),
  idle_timeout: field('idleTimeoutMs', secondsAsMs, SECONDS),
  pipeline_depth: field('pipelineDepth', integer(1, 1000), 'a whole number from 1 to 1000'),
  shutdown_timeout: field('shutdownTimeoutMs', secondsAsMs, SECONDS),
  request_timeout: field('requestTimeoutMs', positiveSecondsAsMs, POSITIVE_SECONDS),
  stale_reply_after: field('staleReplyAfterMs', positiveSecondsAsMs, POSITIVE_SECONDS),
  abandoned_after: field('abandonedAfterMs', secondsAsMs, SECONDS),
  db_pool_size: field('dbPoolSize', integer(1, 1000), 'a whole number from 1 to 1000'),
  db_queue_timeout: field('dbQueueTimeoutMs', secondsAsMs, SECONDS),
  db_queue_limit: field('dbQueueLimit', integer(0, 100_000), 'a whole number up to 100000'),
  db_prepared_statements: field('dbPreparedStatements', boolean, BOOLEAN),
  secret: field(
    'secret',
    (value) => (value.length >= 16 ? value : undefined),
    'a secret of at least 16 characters',
  ),
  secret_expiry: field('secretExpirySeconds', integer(1, 31_536_000), 'seconds from 1 to 31536000'),
  admin_networks: (draft, value) => {
    const networks = splitList(value);
    const bad = networks.find((network) => !isNetwork(network));
    if (bad !== undefined) return `addresses or CIDR networks (${bad} is neither)`;
    draft.adminNetworks = networks;
    return undefined;
  },
  // Obsolete options the original accepts and ignores.
  no_http: () => undefined,
  workerport: () => undefined,
};

/** Keys whose value is a comma-separated list; a repeated command-line flag adds to it. */
const LIST_KEYS: ReadonlySet<string> = new Set(['listen', 'plugins', 'admin_networks']);

/** Keys that take no value on the command line (`--no-schema-check`). */
export const TRACKER_FLAG_KEYS: ReadonlySet<string> = new Set([
  'job_master',
  'repl_use_get_port',
  'rebalance_ignore_missing',
  'daemonize',
  'no_schema_check',
]);

/**
 * Builds the tracker's configuration: defaults, then the file, then the command line.
 * An unknown key in the file is a warning; an invalid value stops with a message that
 * names the key.
 */
export function loadTrackerConfig(options: LoadTrackerConfigOptions = {}): TrackerConfig {
  const warn = options.warn ?? ((message) => process.stderr.write(`mogile: warning: ${message}\n`));
  const draft = defaults();
  const fileName = options.fileName ?? 'config file';
  for (const setting of options.file ?? []) {
    const where = `${fileName}${setting.line === undefined ? '' : ` line ${setting.line}`}`;
    if (!Object.hasOwn(TRACKER_CONFIG_KEYS, setting.key)) {
      warn(`unknown setting "${setting.key}" in ${where} is ignored`);
      continue;
    }
    applySetting(draft, setting.key, setting.value, where);
  }
  for (const [key, values] of Object.entries(options.overrides ?? {})) {
    if (!Object.hasOwn(TRACKER_CONFIG_KEYS, key)) {
      throw new TrackerConfigError(`unknown setting "${key}" on the command line`);
    }
    const list = typeof values === 'string' ? [values] : values;
    for (const value of LIST_KEYS.has(key) ? [list.join(',')] : list) {
      applySetting(draft, key, value, 'the command line');
    }
  }
  return finish(draft);
}

function applySetting(draft: Draft, key: string, value: string, where: string): void {
  const problem = TRACKER_CONFIG_KEYS[key]!(draft, value.trim());
  if (problem !== undefined) {
    throw new TrackerConfigError(`invalid ${key} "${value}" in ${where}: expected ${problem}`);
  }
}

function finish(draft: Draft): TrackerConfig {
  const { listenSpecs, listenerJobs, ...rest } = draft;
  const specs = listenSpecs ?? ['0.0.0.0'];
  if (specs.length === 0) throw new TrackerConfigError('invalid listen: no address given');
  if (draft.staleReplyAfterMs < draft.requestTimeoutMs) {
    // An ERR timeout sent at the deadline must not itself count as a stale reply.
    throw new TrackerConfigError(
      `invalid stale_reply_after "${draft.staleReplyAfterMs / 1000}": expected at least ` +
        `request_timeout (${draft.requestTimeoutMs / 1000} s)`,
    );
  }
  const listen = specs.map((spec) => Object.freeze(parseListen(spec, draft.confPort)));
  return Object.freeze({
    ...rest,
    // listener_jobs is the original's alias for query_jobs, and wins (behaviour.md §14).
    queryJobs: listenerJobs ?? draft.queryJobs,
    listen: Object.freeze(listen),
    plugins: Object.freeze([...draft.plugins]),
    adminNetworks: Object.freeze([...draft.adminNetworks]),
  });
}

/** `IP[:PORT]` or `[IPv6]:PORT`; an entry without a port gets `conf_port` (spec §1). */
export function parseListen(spec: string, defaultPort: number): ListenAddress {
  const trimmed = spec.trim();
  let host: string | undefined;
  let portText: string | undefined;
  const bracketed = /^\[([^\]]+)\](?::(\d{1,5}))?$/.exec(trimmed);
  const plain = /^([^:\s[\]]+)(?::(\d{1,5}))?$/.exec(trimmed);
  if (bracketed) [, host, portText] = bracketed;
  else if (plain) [, host, portText] = plain;
  else if (/^[0-9A-Fa-f.]*:[0-9A-Fa-f.]*:[0-9A-Fa-f:.]*$/.test(trimmed)) host = trimmed; // bare IPv6
  const port = portText === undefined ? defaultPort : Number(portText);
  if (!host || port > 65535) {
    throw new TrackerConfigError(`invalid listen "${spec}": expected IP[:PORT]`);
  }
  return { host, port };
}

function parseHttpListen(value: string): ListenAddress | undefined {
  try {
    return Object.freeze(parseListen(value, DEFAULT_HTTP_PORT));
  } catch {
    return undefined;
  }
}

function splitList(value: string): string[] {
  return value
    .split(',')
    .map((part) => part.trim())
    .filter((part) => part !== '');
}
