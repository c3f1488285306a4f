import { encodeValue } from './reply.js';
import { decodeBinaryArgString } from './request.js';

/**
 * The client's half of the wire codec (spec/tracker-protocol.md §2, §3): encoding request
 * lines and decoding reply lines. Pure: no I/O. The server's half lives in request.ts and
 * reply.ts; both halves share one escaping rule set.
 */

export type RequestValue = string | number | bigint | boolean | null | undefined;

/** A successful reply: the decoded pairs (§3.1). */
export interface OkReply {
  readonly kind: 'ok';
  readonly pairs: Map<string, string>;
}

/** `ERR <code> <text> [<callid>]` (§3.3), text and callid decoded. */
export interface ErrReply {
  readonly kind: 'err';
  readonly code: string;
  readonly text: string;
  /** The trailing token, decoded; undefined when the tracker sent none. */
  readonly callid: string | undefined;
}

/** Anything that is neither: the connection can no longer be trusted (§9.4 rule 5). */
export interface InvalidReply {
  readonly kind: 'invalid';
  readonly line: string;
}

export type ReplyLine = OkReply | ErrReply | InvalidReply;

const COMMAND_NAME = /^[a-z0-9_]+$/;
// Perl's \s on bytes; the line has already lost its CRLF.
const OK_LINE = /^OK(?:[ \t]+(\S*))?[ \t\r]*$/s;
const ERR_LINE = /^ERR[ \t]+(\w+)(?:[ \t]+(\S*))?(?:[ \t]+(\S+))?[ \t\r]*$/s;

/**
 * `<command> <pairs>\r\n` (§2): names and values with the safe-set escaping of §3.2, pairs
 * whose value is undefined or null left out. Booleans travel as `1`/`0`. The space after
 * the command is always sent, as every MogileFS client does (§1.3 of client-expectations).
 */
export function encodeRequestLine(
  command: string,
  args: Iterable<readonly [string, RequestValue]>,
): string {
  if (!COMMAND_NAME.test(command)) {
    throw new TypeError(`command name must match ${COMMAND_NAME}: ${JSON.stringify(command)}`);
  }
  const pairs: string[] = [];
  for (const [name, value] of args) {
    if (value === undefined || value === null) continue;
    const text = typeof value === 'boolean' ? (value ? '1' : '0') : String(value);
    pairs.push(`${encodeValue(name)}=${encodeValue(text)}`);
  }
  return `${command} ${pairs.join('&')}\r\n`;
}

/** Decodes one reply line, given with or without its CRLF. Never throws. */
export function parseReplyLine(line: string | Uint8Array): ReplyLine {
  // Work on a binary string (one char per byte) so that escapes decode to exact bytes.
  const bytes =
    typeof line === 'string'
      ? Buffer.from(line, 'utf8')
      : Buffer.from(line.buffer, line.byteOffset, line.byteLength);
  let binary = bytes.toString('latin1');
  if (binary.endsWith('\n')) binary = binary.slice(0, -1);
  if (binary.endsWith('\r')) binary = binary.slice(0, -1);

  const ok = OK_LINE.exec(binary);
  if (ok) return { kind: 'ok', pairs: decodeBinaryArgString(ok[1] ?? '') };
  const err = ERR_LINE.exec(binary);
  if (err) {
    return {
      kind: 'err',
      code: err[1]!,
      text: decodeToken(err[2] ?? ''),
      callid: err[3] === undefined ? undefined : decodeToken(err[3]),
    };
  }
  return { kind: 'invalid', line: Buffer.from(binary, 'latin1').toString('utf8') };
}

/**
 * Unescapes a single token (given as a binary string or plain ASCII) with the rules of a
 * request value (§2.1 rule 3).
 */
export function decodeToken(token: string): string {
  // Wrapping in a pair reuses the one decoder; `&` and `=` never occur unescaped in a
  // well-formed token, and are kept literally if they do.
  const escaped = token.replaceAll('&', '%26').replaceAll('=', '%3D');
  return decodeBinaryArgString(`v=${escaped}`).get('v') ?? '';
}
