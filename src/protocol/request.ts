/**
 * Request-line decoding (spec/tracker-protocol.md §2, §2.1). Pure: no I/O, never throws.
 *
 * Structure is found on a "binary string" (each byte becomes the char with that code, as
 * latin1 does), so the byte-level rules of the original apply exactly. Only the final
 * names, values and texts are turned into JavaScript text: as UTF-8 when the bytes are
 * valid UTF-8, else as latin1, so that any byte sequence still yields a string and no
 * input can make the decoder fail. (The protocol assumes no character set, §1; clients
 * send UTF-8 in practice.)
 */

/** A line that was empty after stripping its terminator: it gets no reply (§2). */
export interface EmptyRequest {
  readonly kind: 'empty';
}

/** `!` followed by a non-space character: an out-of-band admin command (§7). */
export interface AdminRequest {
  readonly kind: 'admin';
  /** The word after `!`, case kept (`!VERSION` is not `!version`). */
  readonly command: string;
  /** The whitespace-separated words after the command. */
  readonly args: readonly string[];
  /** The line without its terminator. */
  readonly raw: string;
}

/** A normal command: lower-cased name and decoded arguments. */
export interface CommandRequest {
  readonly kind: 'command';
  readonly name: string;
  readonly args: Map<string, string>;
  readonly raw: string;
}

/** A line that does not start with a word character: `ERR unknown_command` (§2). */
export interface UnknownRequest {
  readonly kind: 'unknown';
  readonly raw: string;
}

export type ParsedRequest = EmptyRequest | AdminRequest | CommandRequest | UnknownRequest;

// Perl's \s on bytes; Unicode spaces are not separators on the wire.
const COMMAND_LINE = /^[ \t\n\v\f\r]*([A-Za-z0-9_]+)[ \t\n\v\f\r]*(.*)$/s;
const ADMIN_LINE = /^!([^ \t\n\v\f\r]+)[ \t\n\v\f\r]*(.*)$/s;
const SPACES = /[ \t\n\v\f\r]+/;
/** `unescape`'s own `%uXXXX` form, which is not an escape in the protocol. */
const WIDE_ESCAPE = /%u/i;
/** An escape that decodes to a byte above 0x7f (rule 3). */
const HIGH_BYTE_ESCAPE = /%[89a-f][0-9a-f]/i;

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/**
 * Decodes one request line. A trailing LF is removed if present, then one CR before it,
 * so the line may be passed with or without its terminator.
 */
export function parseRequestLine(line: string | Uint8Array): ParsedRequest {
  let binary = toBinary(line);
  if (binary.endsWith('\n')) binary = binary.slice(0, -1);
  if (binary.endsWith('\r')) binary = binary.slice(0, -1);
  if (binary === '') return { kind: 'empty' };

  const ascii = isAscii(binary);
  const raw = ascii ? binary : binaryToText(binary);
  const admin = ADMIN_LINE.exec(binary);
  if (admin) {
    const rest = binaryToText(admin[2]!);
    return {
      kind: 'admin',
      command: binaryToText(admin[1]!),
      args: rest === '' ? [] : rest.split(SPACES).filter((word) => word !== ''),
      raw,
    };
  }
  const command = COMMAND_LINE.exec(binary);
  if (!command) return { kind: 'unknown', raw };
  return {
    kind: 'command',
    name: command[1]!.toLowerCase(),
    args: decodeBinaryArgs(command[2]!, ascii),
    raw,
  };
}

/** Decodes an argument string with the exact rules of §2.1. Never throws. */
export function decodeArgs(argString: string | Uint8Array): Map<string, string> {
  return decodeBinaryArgString(toBinary(argString));
}

/** `decodeArgs` of a binary string (one char per byte, as latin1 decodes). */
export function decodeBinaryArgString(binary: string): Map<string, string> {
  return decodeBinaryArgs(binary, isAscii(binary));
}

/** `ascii`: the line has no byte above 0x7f. */
function decodeBinaryArgs(binary: string, ascii: boolean): Map<string, string> {
  // Collected as bytes first: duplicates concatenate bytes (rule 4), as the original does.
  const collected = new Map<string, string>();
  for (const piece of binary.split('&')) {
    // Rule 1: the original drops pieces that are false in Perl: "" and "0".
    if (piece === '' || piece === '0') continue;
    // Rule 2: text after a second "=" is discarded.
    const [rawName = '', rawValue = ''] = piece.split('=', 2);
    const name = unescapeBinary(rawName);
    const value = unescapeBinary(rawValue);
    const previous = collected.get(name);
    if (previous === undefined) collected.set(name, value);
    else if (previous !== '' && previous !== '0') collected.set(name, `${previous}\0${value}`);
    else collected.set(name, previous + value);
  }
  // An ASCII line decodes to ASCII names and values, which are text already, unless an
  // escape makes a byte above 0x7f (`%C3%A9`).
  if (ascii && !HIGH_BYTE_ESCAPE.test(binary)) return collected;
  const args = new Map<string, string>();
  for (const [name, value] of collected) args.set(binaryToText(name), binaryToText(value));
  return args;
}

/** Rule 3: `+` becomes a space first, then `%XX` becomes that byte; a bad `%` stays. */
function unescapeBinary(text: string): string {
  const spaced = text.includes('+') ? text.replaceAll('+', ' ') : text;
  let at = spaced.indexOf('%');
  if (at === -1) return spaced;
  // Values are full of escapes (every URL's `:` and `/`), and this runs for each of them in
  // every reply a client reads. The built-in `unescape` applies rule 3 to a binary string
  // in one native pass (half the time of the scan below), but it also decodes `%uXXXX`,
  // which rule 3 does not; such a value takes the scan.
  if (!WIDE_ESCAPE.test(spaced)) return unescape(spaced);
  let decoded = '';
  let copiedTo = 0;
  while (at !== -1) {
    const high = hexDigit(spaced.charCodeAt(at + 1));
    const low = hexDigit(spaced.charCodeAt(at + 2));
    if (high < 0 || low < 0) {
      at = spaced.indexOf('%', at + 1);
      continue;
    }
    decoded += spaced.slice(copiedTo, at) + String.fromCharCode(high * 16 + low);
    copiedTo = at + 3;
    at = spaced.indexOf('%', copiedTo);
  }
  return decoded + spaced.slice(copiedTo);
}

/** The value of an ASCII hex digit's char code, or -1 (also for NaN, past the end). */
function hexDigit(code: number): number {
  if (code >= 48 && code <= 57) return code - 48;
  if (code >= 65 && code <= 70) return code - 55;
  if (code >= 97 && code <= 102) return code - 87;
  return -1;
}

function toBinary(input: string | Uint8Array): string {
  const bytes = typeof input === 'string' ? Buffer.from(input, 'utf8') : input;
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1');
}

function isAscii(binary: string): boolean {
  return !/[^\x00-\x7f]/.test(binary);
}

/** Bytes (as a binary string) to text: UTF-8 when valid, else latin1 (see file comment). */
function binaryToText(binary: string): string {
  // Pure ASCII is the common case and reads the same either way.
  if (isAscii(binary)) return binary;
  const bytes = Buffer.from(binary, 'latin1');
  try {
    return utf8.decode(bytes);
  } catch {
    return binary;
  }
}
