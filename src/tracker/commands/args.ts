import { type ErrorCode, MogileError } from '../../protocol/errors.js';
import type { RequestArgs } from '../command.js';

/** A required, non-empty argument. Unlike the original, the value `0` counts as given. */
export function requireArg(args: RequestArgs, name: string, code: ErrorCode): string {
  const value = args.get(name);
  if (value === undefined || value === '') throw new MogileError(code);
  return value;
}

/**
 * Perl's numeric reading of a string: leading whitespace, an optional sign and digits;
 * anything after them is ignored (`3x` → 3). Undefined when there are no digits.
 */
export function leadingInteger(value: string | undefined): number | undefined {
  const match = /^\s*([+-]?\d+)/.exec(value ?? '');
  return match ? Number(match[1]) : undefined;
}

/** A decimal number made only of digits (ids, ports). */
export function digitsOnly(value: string | undefined): number | undefined {
  return value !== undefined && /^\d+$/.test(value) ? Number(value) : undefined;
}

/** Byte length as the database counts it (UTF-8). */
export function byteLength(value: string): number {
  return Buffer.byteLength(value, 'utf8');
}

export function checkMaxBytes(value: string, max: number, what: string): void {
  if (byteLength(value) > max) {
    throw new MogileError('bad_params', `${what} is limited to ${max} bytes`);
  }
}

const HASHTYPE_IDS: Readonly<Record<string, number>> = { MD5: 1, 'SHA-1': 2 };
const HASHTYPE_NAMES: Readonly<Record<number, string>> = { 1: 'MD5', 2: 'SHA-1' };

/** `MD5` → 1, `SHA-1` → 2 (case-sensitive, spec behaviour.md §12). */
export function hashtypeId(name: string): number | undefined {
  return HASHTYPE_IDS[name];
}

export function hashtypeName(id: number | null | undefined): string {
  return (id !== null && id !== undefined && HASHTYPE_NAMES[id]) || 'NONE';
}
