import { defaultErrorText, type ErrorCode } from './errors.js';
import { InvariantError } from './invariant-error.js';

/**
 * Reply-line encoding (spec/tracker-protocol.md §3). Pure: no I/O.
 */

export type ReplyValue = string | number | bigint | null | undefined;

/** Reply pairs, in the order they go on the wire. */
export type ReplyPairs = Readonly<Record<string, ReplyValue>> | ReadonlyMap<string, ReplyValue>;

// The safe set of §3.2: A–Z a–z 0–9 _ , - . / \ : and space.
const SAFE_BYTE = new Uint8Array(256);
for (const char of 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_,-./\\: ') {
  SAFE_BYTE[char.charCodeAt(0)] = 1;
}
const HEX = '0123456789ABCDEF';
const ALL_SAFE = /^[A-Za-z0-9_,\-./\\:]*$/;

/**
 * Encodes one name or value (§3.2): bytes outside the safe set become upper-case `%XX`
 * over the UTF-8 encoding, then spaces become `+`.
 */
export function encodeValue(text: string): string {
  // Most values (numbers, URLs, plain keys) need no escaping.
  if (ALL_SAFE.test(text)) return text;
  let out = '';
  for (const byte of Buffer.from(text, 'utf8')) {
    if (byte === 0x20) out += '+';
    else if (SAFE_BYTE[byte] === 1) out += String.fromCharCode(byte);
    else out += `%${HEX[byte >> 4]}${HEX[byte & 15]}`;
  }
  return out;
}

/**
 * `OK <pairs>\r\n`, exactly `OK \r\n` when there are none (§3.1: the space is
 * load-bearing). A `callid` given here replaces any `callid` pair (§3.3).
 * Throws an InvariantError when a name starts with a digit: the Perl, Python and Ruby
 * clients would swallow those digits (§3.1).
 */
export function encodeOk(pairs: ReplyPairs, callid?: string): string {
  const encoded: string[] = [];
  for (const [name, value] of entriesOf(pairs)) {
    if (callid !== undefined && name === 'callid') continue;
    encoded.push(encodePair(name, value));
  }
  if (callid !== undefined) encoded.push(encodePair('callid', callid));
  return `OK ${encoded.join('&')}\r\n`;
}

/**
 * `ERR <code> <text>[ <callid>]\r\n` (§3.3). An empty text is replaced by the default
 * text, and an empty callid is left out, so the line always has its token positions.
 */
export function encodeErr(code: ErrorCode, text: string, callid?: string): string {
  const encodedText = encodeValue(text === '' ? defaultErrorText(code) : text);
  const tail = callid === undefined || callid === '' ? '' : ` ${encodeValue(callid)}`;
  return `ERR ${code} ${encodedText}${tail}\r\n`;
}

function encodePair(name: string, value: ReplyValue): string {
  if (/^[0-9]/.test(name)) {
    throw new InvariantError(`reply pair name starts with a digit: ${JSON.stringify(name)}`);
  }
  return `${encodeValue(name)}=${value === null || value === undefined ? '' : encodeValue(String(value))}`;
}

function entriesOf(pairs: ReplyPairs): Iterable<[string, ReplyValue]> {
  return pairs instanceof Map ? pairs.entries() : Object.entries(pairs);
}
