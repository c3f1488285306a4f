import { existsSync, unlinkSync, writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import { pino } from 'pino';
import { startStorageNode } from '../storage/storage-node.js';
import { type ListenAddress, parseListenAddress } from '../storage/storage-options.js';
import { ConfigError, readConfigFile } from './config-file.js';

const DEFAULT_CONFIG = '/etc/mogilefs/mogstored.conf';

interface StorageCliOptions {
  listen?: string;
  httplisten?: string;
  mgmtListen?: string;
  mgmtlisten?: string;
  docroot?: string;
  maxconns?: string;
  config?: string;
  skipconfig?: boolean;
  pidfile?: string;
  iostat?: boolean;
  daemonize?: boolean;
  headersTimeout?: string;
  idleTimeout?: string;
  secret?: string;
  secretAppliesToGet?: boolean;
}

/** The settings a storage node starts with, merged from file and command line. */
interface StorageSettings {
  httpListen: ListenAddress;
  sideListen: ListenAddress;
  docroot: string;
  maxConnections: number;
  pidfile: string | undefined;
  iostat: boolean;
  headersTimeoutMs: number | undefined;
  idleTimeoutMs: number | undefined;
  secret: string | undefined;
  secretAppliesToGet: boolean;
}

export function registerStorageCommand(program: Command): void {
  program
    .command('storage')
    .description('run a storage node (mogstored-compatible HTTP server and side channel)')
    .option('--listen <ip:port>', 'HTTP listen address (default 0.0.0.0:7500)')
    .option('--httplisten <ip:port>', 'same as --listen (mogstored spelling)')
    .option('--mgmt-listen <ip:port>', 'side-channel listen address (default 0.0.0.0:7501)')
    .option('--mgmtlisten <ip:port>', 'same as --mgmt-listen (mogstored spelling)')
    .option('--docroot <dir>', 'folder holding the devN folders (default /var/mogdata)')
    .option('--maxconns <n>', 'most simultaneous connections (default 10000)')
    .option('-c, --config <file>', `mogstored.conf to read (default ${DEFAULT_CONFIG} if present)`)
    .option('-s, --skipconfig', 'do not read any config file')
    .option('--pidfile <path>', 'write the process id to this file')
    .option('--no-iostat', 'answer `watch` with "ERR iostat unavailable"')
    .option('--headers-timeout <ms>', 'time allowed to send request headers (default 20000)')
    .option('--idle-timeout <ms>', 'close a connection or upload idle this long (default 60000)')
    .option(
      '--secret <text>',
      "refuse unsigned PUT/DELETE (the trackers' secret; docs/security.md)",
    )
    .option('--secret-applies-to-get', 'refuse unsigned GET/HEAD of files too')
    .action(async (options: StorageCliOptions) => {
      let settings: StorageSettings;
      try {
        settings = resolveSettings(options);
      } catch (error) {
        process.stderr.write(`mogile storage: ${(error as Error).message}\n`);
        process.exit(2);
      }
      await runStorageNode(settings);
    });
}

async function runStorageNode(settings: StorageSettings): Promise<void> {
  const logger = pino(
    { name: 'mogile-storage', level: process.env['MOGILE_LOG_LEVEL'] ?? 'info' },
    pino.destination(2),
  );
  let exiting = false;
  const exit = (code: number) => {
    if (settings.pidfile) {
      try {
        unlinkSync(settings.pidfile);
      } catch {
        // Already gone.
      }
    }
    process.exit(code);
  };
  const stop = async (reason: string) => {
    if (exiting) return;
    exiting = true;
    logger.info({ reason }, 'stopping');
    await node.close();
    exit(0);
  };
  let node: Awaited<ReturnType<typeof startStorageNode>>;
  try {
    node = await startStorageNode(
      {
        docroot: settings.docroot,
        httpListen: settings.httpListen,
        sideListen: settings.sideListen,
        maxConnections: settings.maxConnections,
        iostat: settings.iostat,
        headersTimeoutMs: settings.headersTimeoutMs,
        idleTimeoutMs: settings.idleTimeoutMs,
        ...(settings.secret !== undefined && { secret: settings.secret }),
        secretAppliesToGet: settings.secretAppliesToGet,
      },
      {
        logger,
        // `shutdown` exits at once; `shutdown graceful` finishes in-flight requests (§5.5).
        onShutdown: (graceful) => (graceful ? void stop('shutdown graceful') : exit(0)),
      },
    );
  } catch (error) {
    process.stderr.write(`mogile storage: ${(error as Error).message}\n`);
    process.exit(1);
  }
  if (settings.pidfile) writeFileSync(settings.pidfile, `${process.pid}\n`);
  process.stdout.write(`listening on ${formatAddress(node.httpAddress)} (http)\n`);
  if (node.sideAddress) {
    process.stdout.write(`listening on ${formatAddress(node.sideAddress)} (side channel)\n`);
  }
  process.once('SIGTERM', () => void stop('SIGTERM'));
  process.once('SIGINT', () => void stop('SIGINT'));
}

function formatAddress(address: ListenAddress): string {
  return address.host.includes(':')
    ? `[${address.host}]:${address.port}`
    : `${address.host}:${address.port}`;
}

/** Every key a mogstored.conf may hold (docs/config.md). */
export const STORAGE_CONFIG_KEYS: ReadonlySet<string> = new Set([
  'httplisten',
  'mgmtlisten',
  'docroot',
  'maxconns',
  'server',
  'serverbin',
  'pidfile',
  'iostat',
  'daemonize',
  'secret',
  'secret_applies_to_get',
]);

/** Reads the config file (mogstored keys), then lets the command line win. */
function resolveSettings(options: StorageCliOptions): StorageSettings {
  const file: Record<string, string> = {};
  const configPath =
    options.config ?? (!options.skipconfig && existsSync(DEFAULT_CONFIG) ? DEFAULT_CONFIG : null);
  if (configPath !== null && !(options.skipconfig && options.config === undefined)) {
    for (const entry of readConfigFile(configPath)) {
      if (!STORAGE_CONFIG_KEYS.has(entry.key)) {
        throw new ConfigError(`${configPath}:${entry.line}: unknown key "${entry.key}"`);
      }
      file[entry.key] = entry.value;
    }
  }
  // Every file value is checked, even one the command line overrides.
  const pick = (cli: string | undefined, key: string): [string, string] | undefined => {
    const fromFile: [string, string] | undefined =
      file[key] !== undefined ? [key, file[key]!] : undefined;
    return cli !== undefined ? [`--${key}`, cli] : fromFile;
  };
  for (const key of ['httplisten', 'mgmtlisten'] as const) {
    if (file[key] !== undefined) address([key, file[key]!], 0);
  }
  if (file['maxconns'] !== undefined) positiveInteger(['maxconns', file['maxconns']!], 0);
  if (file['server'] !== undefined && file['server'] !== 'perlbal') {
    throw new ConfigError(
      `server: "${file['server']}" is not supported; mogile serves HTTP itself`,
    );
  }
  if (file['daemonize'] !== undefined && parseBoolean('daemonize', file['daemonize'])) {
    throw new ConfigError('daemonize: not supported; run mogile under a service manager');
  }
  const iostatCli = options.iostat === false ? false : undefined;
  return {
    httpListen: address(pick(options.listen ?? options.httplisten, 'httplisten'), 7500),
    sideListen: address(pick(options.mgmtListen ?? options.mgmtlisten, 'mgmtlisten'), 7501),
    docroot: pick(options.docroot, 'docroot')?.[1] ?? '/var/mogdata',
    maxConnections: positiveInteger(pick(options.maxconns, 'maxconns'), 10_000),
    pidfile: pick(options.pidfile, 'pidfile')?.[1],
    headersTimeoutMs: optionalInteger('--headers-timeout', options.headersTimeout),
    idleTimeoutMs: optionalInteger('--idle-timeout', options.idleTimeout),
    secret: pick(options.secret, 'secret')?.[1],
    secretAppliesToGet:
      options.secretAppliesToGet === true ||
      (file['secret_applies_to_get'] !== undefined &&
        parseBoolean('secret_applies_to_get', file['secret_applies_to_get'])),
    iostat:
      iostatCli ?? (file['iostat'] === undefined ? true : parseBoolean('iostat', file['iostat'])),
  };
}

function address(setting: [string, string] | undefined, defaultPort: number): ListenAddress {
  if (setting === undefined) return { host: '0.0.0.0', port: defaultPort };
  const parsed = parseListenAddress(setting[1]);
  if (!parsed) throw new ConfigError(`${setting[0]}: "${setting[1]}" is not an ip:port address`);
  return parsed;
}

function positiveInteger(setting: [string, string] | undefined, fallback: number): number {
  if (setting === undefined) return fallback;
  const value = Number(setting[1]);
  if (!/^\d+$/.test(setting[1]) || !Number.isSafeInteger(value) || value < 1) {
    throw new ConfigError(`${setting[0]}: "${setting[1]}" is not a positive integer`);
  }
  return value;
}

function optionalInteger(name: string, value: string | undefined): number | undefined {
  return value === undefined ? undefined : positiveInteger([name, value], 0);
}

function parseBoolean(key: string, value: string): boolean {
  if (/^(1|true|yes|on)$/i.test(value)) return true;
  if (/^(0|false|no|off)$/i.test(value)) return false;
  throw new ConfigError(`${key}: "${value}" is not a boolean (use 1 or 0)`);
}
