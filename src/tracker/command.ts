import type { TrackerServices } from './services.js';

/** Decoded request arguments (spec/tracker-protocol.md §2.1). A Map, so no name is special. */
export type RequestArgs = ReadonlyMap<string, string>;

/**
 * Reply pairs in the order they go on the wire. `null`/`undefined` values are sent as
 * `name=` (spec §3.1). No name may start with a digit.
 */
export type ReplyArgs = Readonly<Record<string, string | number | bigint | null | undefined>>;

export interface CommandContext {
  readonly services: TrackerServices;
  /** The client's address, for the alt-IP rule (spec §4.3) and logs. */
  readonly clientIp: string;
  /** Aborted when the client goes away or the request passes its deadline. */
  readonly signal: AbortSignal;
  /**
   * Logs and counts a broken invariant that the command survives by leaving something out
   * (a path to a copy that is not there). Breaches that fail the request throw
   * InvariantError instead (architecture.md §4.5).
   */
  readonly reportInvariant?: (detail: string) => void;
  /**
   * performance.now() time after which the reply can no longer be sent: the request's
   * deadline, or for commands that change data the stale-reply threshold. Absent: no limit.
   */
  readonly replyByMs?: number;
}

/**
 * A tracker command: takes parsed arguments, returns reply pairs or throws a MogileError.
 * Only dispatch turns results into `OK`/`ERR` lines.
 */
export type CommandHandler = (args: RequestArgs, ctx: CommandContext) => Promise<ReplyArgs>;

export type CommandRegistry = ReadonlyMap<string, CommandHandler>;

/** Perl truth: present, non-empty and not the string `0` (spec §2.1). */
export function isTruthy(value: string | undefined): value is string {
  return value !== undefined && value !== '' && value !== '0';
}
