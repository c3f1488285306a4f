/** A listen address: `host` and `port` (0 picks a free port). */
export interface ListenAddress {
  readonly host: string;
  readonly port: number;
}

export interface StorageNodeOptions {
  /** Root holding the `devN` folders. */
  readonly docroot: string;
  readonly httpListen: ListenAddress;
  /** The side channel; null runs the node without one. */
  readonly sideListen: ListenAddress | null;
  /** Most simultaneous connections per listener (mogstored's `maxconns`). */
  readonly maxConnections?: number;
  readonly headersTimeoutMs?: number;
  readonly idleTimeoutMs?: number;
  readonly keepAliveTimeoutMs?: number;
  /** How often the usage files are rewritten (spec/storage-node.md §4: 10 s). */
  readonly usageIntervalMs?: number;
  /** How often `watch` subscribers get a round (§5.3: about 1 s). */
  readonly watchIntervalMs?: number;
  /** Serve `watch` (mogstored's `iostat`); when false, watch answers `ERR iostat unavailable`. */
  readonly iostat?: boolean;
  /** How long close() lets in-flight requests finish before dropping them. */
  readonly closeGraceMs?: number;
  /**
   * Refuse PUT, DELETE, MKCOL and MOVE without a valid signature made with this secret
   * (docs/security.md); empty turns signing off.
   */
  readonly secret?: string;
  /** Refuse unsigned GET and HEAD of files too (usage files and `/` stay open). */
  readonly secretAppliesToGet?: boolean;
}

export type ResolvedStorageOptions = Readonly<Required<StorageNodeOptions>>;

export const STORAGE_DEFAULTS = Object.freeze({
  maxConnections: 10_000,
  headersTimeoutMs: 20_000,
  idleTimeoutMs: 60_000,
  keepAliveTimeoutMs: 30_000,
  usageIntervalMs: 10_000,
  watchIntervalMs: 1_000,
  iostat: true,
  closeGraceMs: 10_000,
  secret: '',
  secretAppliesToGet: false,
});

export class StorageOptionError extends Error {
  readonly option: string;

  constructor(option: string, message: string) {
    super(`${option}: ${message}`);
    this.name = 'StorageOptionError';
    this.option = option;
  }
}

/** Validates eagerly, naming the option at fault, and freezes the result. */
export function resolveStorageOptions(options: StorageNodeOptions): ResolvedStorageOptions {
  if (typeof options.docroot !== 'string' || options.docroot === '') {
    throw new StorageOptionError('docroot', 'must be a folder path');
  }
  checkAddress('httpListen', options.httpListen);
  if (options.sideListen !== null) checkAddress('sideListen', options.sideListen);
  const resolved = { ...STORAGE_DEFAULTS, ...stripUndefined(options) };
  for (const key of [
    'maxConnections',
    'headersTimeoutMs',
    'idleTimeoutMs',
    'keepAliveTimeoutMs',
    'usageIntervalMs',
    'watchIntervalMs',
  ] as const) {
    const value = resolved[key];
    if (!Number.isSafeInteger(value) || value < 1) {
      throw new StorageOptionError(key, `must be a positive integer, got ${String(value)}`);
    }
  }
  if (resolved.secret !== '' && resolved.secret.length < 16) {
    throw new StorageOptionError('secret', 'must be at least 16 characters');
  }
  if (resolved.secretAppliesToGet && resolved.secret === '') {
    throw new StorageOptionError('secretAppliesToGet', 'needs a secret');
  }
  if (!Number.isSafeInteger(resolved.closeGraceMs) || resolved.closeGraceMs < 0) {
    throw new StorageOptionError('closeGraceMs', 'must be a non-negative integer');
  }
  return Object.freeze(resolved);
}

function checkAddress(name: string, address: ListenAddress | undefined): void {
  if (!address || typeof address.host !== 'string' || address.host === '') {
    throw new StorageOptionError(name, 'needs a host');
  }
  if (!Number.isInteger(address.port) || address.port < 0 || address.port > 65535) {
    throw new StorageOptionError(name, `port must be 0-65535, got ${String(address.port)}`);
  }
}

function stripUndefined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}

/**
 * Parses `ip:port`, `[v6]:port`, `:port` or `port` (mogstored's `httplisten` syntax).
 * Returns null when it is not an address.
 */
export function parseListenAddress(text: string, defaultHost = '0.0.0.0'): ListenAddress | null {
  const match = /^(?:\[([0-9A-Fa-f:.]+)\]|([^:\s]*)):(\d{1,5})$|^(\d{1,5})$/.exec(text.trim());
  if (!match) return null;
  const port = Number(match[3] ?? match[4]);
  if (port > 65535) return null;
  const host = match[1] ?? (match[2] || defaultHost);
  return { host, port };
}
