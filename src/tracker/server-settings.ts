import { MogileError } from '../protocol/errors.js';

/**
 * The writable server settings and how each value is normalised (spec behaviour.md §13).
 * A validator returns the value to store, `null` to delete the setting, or throws
 * `invalid_format`.
 */
type Validator = (value: string | undefined) => string | null;

const bool: Validator = (value) => {
  const text = (value ?? '').toLowerCase();
  if (text === '' || /^(0|f|off|n)/.test(text)) return '0';
  if (/^(1|t|on|y)/.test(text)) return '1';
  throw new MogileError('invalid_format', 'Unknown format');
};

const num: Validator = (value) => {
  if (value === undefined || value === '') return '0';
  if (!/^\d+$/.test(value)) throw new MogileError('invalid_format', 'Must be numeric');
  return value;
};

const any: Validator = (value) => value ?? null;

const deleteIfBlank: Validator = (value) => (value === undefined || value === '' ? null : value);

const fsckChecksum: Validator = (value) => {
  if (value === 'off') return 'off';
  if (value === 'class') return null;
  if (value === 'MD5' || value === 'SHA-1') return value;
  throw new MogileError('invalid_format', 'Not a valid checksum algorithm');
};

const cidrList: Validator = (value) => {
  if (value === undefined || value === '') return null;
  for (const cidr of value.split(',')) {
    const match = /^\s*(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})\s*$/.exec(cidr);
    const octetsOk = match?.slice(1, 5).every((octet) => Number(octet) <= 255);
    if (!match || !octetsOk || Number(match[5]) > 32) {
      throw new MogileError('invalid_format', `Invalid network "${cidr.trim()}"`);
    }
  }
  return value;
};

const FIXED: Readonly<Record<string, Validator>> = {
  skip_devcount: bool,
  skip_mkcol: bool,
  case_sensitive_list_keys: bool,
  memcache_servers: any,
  memcache_ttl: num,
  internal_queue_limit: num,
  fsck_checksum: fsckChecksum,
  network_zones: any,
  slave_keys: deleteIfBlank,
};

/** The validator for a writable key, or undefined when the key is not writable. */
export function settingValidator(key: string): Validator | undefined {
  if (Object.hasOwn(FIXED, key)) return FIXED[key];
  if (key.startsWith('queue_')) return any;
  if (key.startsWith('zone_')) return cidrList;
  if (key.startsWith('slave_') && key !== 'slave_version') return deleteIfBlank;
  return undefined;
}

/** `server_settings` hides the fsck bookkeeping keys, but shows `fsck_checksum`. */
export function isListedSetting(key: string): boolean {
  return !key.startsWith('fsck_') || key === 'fsck_checksum';
}
