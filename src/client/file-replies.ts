import { intField, optionalNumber, optionalText } from './client-options.js';
import { MogileClientError } from './errors.js';
import type { Destination } from './storage-upload.js';

/** `file_info` (spec/tracker-protocol.md §5.7). */
export interface FileInfo {
  readonly fid: number;
  readonly domain: string;
  readonly class: string;
  readonly key: string;
  readonly lengthBytes: number;
  /** The tracker's stored copy counter, not a live count. */
  readonly devcount: number;
  /** `MD5:<hex>`/`SHA-1:<hex>`, `MISSING`, or undefined when the tracker did not say. */
  readonly checksum: string | undefined;
  /** Only when asked for with `{ devices: true }`. */
  readonly devids: readonly number[] | undefined;
}

/** `file_debug` (§5.8), with the raw pairs kept for the queue groups. */
export interface FileDebugInfo {
  readonly fid: number | undefined;
  readonly key: string | undefined;
  readonly domain: string | undefined;
  readonly class: string | undefined;
  readonly lengthBytes: number | undefined;
  readonly devids: readonly number[];
  /** Read URL per devid. */
  readonly paths: ReadonlyMap<number, string>;
  /** `<ALG>:<hex>` or `NONE`. */
  readonly checksum: string | undefined;
  readonly raw: Readonly<Record<string, string>>;
}

export interface KeyPage {
  readonly keys: readonly string[];
  /** Pass as `after` to get the next page; undefined when the page was empty. */
  readonly nextAfter: string | undefined;
}

export function parseDestinations(reply: ReadonlyMap<string, string>): Destination[] {
  const destinations: Destination[] = [];
  if (reply.has('dev_count')) {
    const count = intField(reply, 'dev_count', 'create_open');
    for (let i = 1; i <= count; i++) {
      destinations.push({
        devid: intField(reply, `devid_${i}`, 'create_open'),
        path: requiredText(reply, `path_${i}`, 'create_open'),
      });
    }
  } else if (reply.has('path')) {
    destinations.push({
      devid: intField(reply, 'devid', 'create_open'),
      path: requiredText(reply, 'path', 'create_open'),
    });
  }
  if (destinations.length === 0) {
    throw new MogileClientError('ENO_PATHS', 'create_open offered no destination', {
      command: 'create_open',
    });
  }
  return destinations;
}

/** A `get_paths` reply with mogile's extra pairs (absent from other trackers). */
export interface LocatedFile {
  readonly paths: string[];
  readonly fid: number | undefined;
  readonly lengthBytes: number | undefined;
  readonly checksum: string | undefined;
}

/**
 * Reads a `get_paths` reply. When the tracker echoes `domain` and `key`, they must be the
 * ones asked for (architecture.md §4.1): anything else is a reply to another request.
 */
export function parseLocatedFile(
  reply: ReadonlyMap<string, string>,
  domain: string,
  key: string,
): LocatedFile {
  const echoedKey = reply.get('key');
  const echoedDomain = reply.get('domain');
  if (
    (echoedKey !== undefined && echoedKey !== key) ||
    (echoedDomain !== undefined && echoedDomain !== domain)
  ) {
    throw new MogileClientError(
      'EECHO_MISMATCH',
      `get_paths for ${domain}/${key} was answered for ${echoedDomain}/${echoedKey}`,
      { command: 'get_paths' },
    );
  }
  return {
    paths: parsePaths(reply),
    fid: optionalNumber(reply, 'fid'),
    lengthBytes: optionalNumber(reply, 'length'),
    checksum: optionalText(reply, 'checksum'),
  };
}

export function parsePaths(reply: ReadonlyMap<string, string>): string[] {
  const count = intField(reply, 'paths', 'get_paths');
  const paths: string[] = [];
  for (let i = 1; i <= count; i++) paths.push(requiredText(reply, `path${i}`, 'get_paths'));
  return paths;
}

export function parseFileInfo(reply: ReadonlyMap<string, string>): FileInfo {
  const devids = reply.get('devids');
  return {
    fid: intField(reply, 'fid', 'file_info'),
    domain: reply.get('domain') ?? '',
    class: reply.get('class') ?? '',
    key: reply.get('key') ?? '',
    lengthBytes: intField(reply, 'length', 'file_info'),
    devcount: optionalNumber(reply, 'devcount') ?? 0,
    checksum: optionalText(reply, 'checksum'),
    devids: devids === undefined ? undefined : parseIdList(devids),
  };
}

export function parseFileDebug(reply: ReadonlyMap<string, string>): FileDebugInfo {
  const paths = new Map<number, string>();
  for (const [name, value] of reply) {
    const match = /^devpath_(\d+)$/.exec(name);
    if (match) paths.set(Number(match[1]), value);
  }
  return {
    fid: optionalNumber(reply, 'fid_fid'),
    key: reply.get('fid_dkey'),
    domain: reply.get('fid_domain'),
    class: reply.get('fid_class'),
    lengthBytes: optionalNumber(reply, 'fid_length'),
    devids: parseIdList(reply.get('devids') ?? ''),
    paths,
    checksum: optionalText(reply, 'checksum'),
    raw: Object.fromEntries(reply),
  };
}

export function parseKeyPage(reply: ReadonlyMap<string, string>): KeyPage {
  const count = intField(reply, 'key_count', 'list_keys');
  const keys: string[] = [];
  for (let i = 1; i <= count; i++) keys.push(requiredText(reply, `key_${i}`, 'list_keys', true));
  return { keys, nextAfter: reply.get('next_after') ?? keys[keys.length - 1] };
}

export function parseIdList(text: string): number[] {
  return text
    .split(',')
    .filter((part) => part !== '')
    .map(Number)
    .filter(Number.isSafeInteger);
}

function requiredText(
  reply: ReadonlyMap<string, string>,
  name: string,
  command: string,
  allowEmpty = false,
): string {
  const value = reply.get(name);
  if (value === undefined || (!allowEmpty && value === '')) {
    throw new MogileClientError('EBAD_REPLY', `${command} reply has no ${name}`, { command });
  }
  return value;
}
