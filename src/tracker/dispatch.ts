import { performance } from 'node:perf_hooks';
import type { Logger } from 'pino';
import { MetaDuplicateError } from '../meta/index.js';
import { type DbRequestScope, MetaBusyError, MetaConnectionError } from '../meta/meta-gate.js';
import { defaultErrorText, MogileError } from '../protocol/errors.js';
import { InvariantError } from '../protocol/invariant-error.js';
import { encodeErr, encodeOk } from '../protocol/reply.js';
import { type AdminRequest, type CommandRequest, parseRequestLine } from '../protocol/request.js';
import {
  CLUSTER_CHANGING_COMMANDS,
  PROCESS_CHANGING_ADMIN_COMMANDS,
} from './cluster-changing-commands.js';
import type { CommandContext, CommandHandler, CommandRegistry } from './command.js';
import { NetworkAllowList } from './network-allow-list.js';
import { QueryStats } from './query-stats.js';
import { RequestDeadline } from './request-deadline.js';
import type { TrackerServices } from './services.js';

/** What dispatch knows about the connection a line came from. */
export interface ConnectionContext {
  readonly clientIp: string;
  /** Fires when the client goes away: handlers stop and their replies are dropped. */
  readonly signal: AbortSignal;
  /** Writes an unsolicited line (`!watch`, spec §7); absent where nothing can stream. */
  readonly sendUnsolicited?: (text: string) => void;
}

/** The `!` commands (spec §7): their multi-line replies are not `OK`/`ERR` lines. */
export interface AdminCommandHandler {
  handle(request: AdminRequest, ctx: ConnectionContext): Promise<string> | string;
}

export interface DispatcherOptions {
  readonly logger?: Logger;
  readonly stats?: QueryStats;
  readonly admin?: AdminCommandHandler;
  /** Each request's deadline from its arrival (config `request_timeout`). */
  readonly requestTimeoutMs?: number;
  /** A reply later than this after its request must not be written (`stale_reply_after`). */
  readonly staleReplyAfterMs?: number;
  /** Networks allowed to change the cluster (`admin_networks`); empty allows all. */
  readonly adminNetworks?: readonly string[];
}

/** A reply and the performance.now() time after which writing it would be stale. */
export interface DispatchedReply {
  readonly reply: string | null;
  /** Infinity for replies that may leave at any time (admin commands, exempt commands). */
  readonly staleAtMs: number;
}

export interface Dispatcher {
  /**
   * The full reply for one request line, or null for an empty line (no reply, spec §2).
   * Without a context the line counts as coming from 127.0.0.1 on a connection that
   * stays open (handy for tests). `receivedAtMs` (performance.now() time) is when the
   * line arrived, so `!recent` can show the time it waited behind earlier requests.
   */
  handleLine(
    line: string | Uint8Array,
    ctx?: ConnectionContext,
    receivedAtMs?: number,
  ): Promise<string | null>;
  /**
   * As handleLine, with the time the reply goes stale: a connection that cannot write it
   * before then closes instead (architecture.md §4.2).
   */
  handleRequest?(
    line: string | Uint8Array,
    ctx: ConnectionContext,
    receivedAtMs: number,
  ): Promise<DispatchedReply>;
}

export const DEFAULT_REQUEST_TIMEOUT_MS = 2000;
export const DEFAULT_STALE_REPLY_AFTER_MS = 2500;

/**
 * How the deadline treats a command. `read`: answered `ERR timeout` at the deadline and
 * its database work abandoned. `long`: commands that wait on purpose (a test sleep, a
 * monitor round) and whose callers raise their timeouts; no deadline, no stale rule.
 * Everything else may change data, so it finishes its transaction; its reply obeys the
 * stale rule.
 */
type DeadlineKind = 'read' | 'write' | 'long';

const READ_COMMANDS: ReadonlySet<string> = new Set([
  'get_paths',
  'file_info',
  'file_debug',
  'list_keys',
  'list_fids',
  'get_domains',
  'get_hosts',
  'get_devices',
  'get_classes',
  'server_setting',
  'server_settings',
  'mogile_stats',
  'fsck_getlog',
  'rebalance_status',
  'rebalance_test',
  'noop',
  'test',
]);
const LONG_COMMANDS: ReadonlySet<string> = new Set(['sleep', 'clear_cache', 'do_monitor_round']);

function deadlineKind(command: string): DeadlineKind {
  if (READ_COMMANDS.has(command)) return 'read';
  return LONG_COMMANDS.has(command) ? 'long' : 'write';
}

/** The reason a request's signal carries when its deadline passes. */
class DeadlineExceeded extends Error {
  constructor(timeoutMs: number) {
    super(`request deadline of ${timeoutMs} ms passed`);
    this.name = 'DeadlineExceeded';
  }
}

const LOCAL_CONNECTION: ConnectionContext = Object.freeze({
  clientIp: '127.0.0.1',
  signal: new AbortController().signal,
});

const MAX_LOGGED_LINE = 300;

/**
 * The one place that writes `OK` and `ERR` lines (style.md: exactly one place turns an
 * exception into a response). Handlers return pairs or throw a MogileError; anything else
 * they throw is logged and answered `ERR failure` (spec §3.4), and serving goes on.
 */
export function createDispatcher(
  registry: CommandRegistry,
  services: TrackerServices,
  options: DispatcherOptions = {},
): Dispatcher {
  const stats = options.stats ?? new QueryStats();
  const { logger, admin } = options;
  const requestTimeoutMs = options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
  const staleReplyAfterMs = options.staleReplyAfterMs ?? DEFAULT_STALE_REPLY_AFTER_MS;
  const adminNetworks = new NetworkAllowList(options.adminNetworks ?? []);

  /** True (and logged, counted) when `admin_networks` keeps this client from `name`. */
  function forbidden(name: string, ctx: ConnectionContext): boolean {
    if (adminNetworks.allows(ctx.clientIp)) return false;
    stats.increment('forbidden');
    logger?.warn({ command: name, clientIp: ctx.clientIp }, 'command refused by admin_networks');
    return true;
  }

  async function runCommand(
    request: CommandRequest,
    ctx: ConnectionContext,
    receivedAtMs: number,
  ): Promise<string> {
    // Echo only this request's callid: the original could leak an earlier one
    // (transcripts README, quirk 2).
    const callid = request.args.get('callid');
    const handler = registry.get(request.name);
    if (!handler) return encodeErr('unknown_command', defaultErrorText('unknown_command'), callid);
    if (CLUSTER_CHANGING_COMMANDS.has(request.name) && forbidden(request.name, ctx)) {
      return encodeErr('forbidden', defaultErrorText('forbidden'), callid);
    }
    const kind = deadlineKind(request.name);
    if (kind === 'long') {
      return runHandler(handler, request, ctx, callid, {
        deadlineMs: Number.POSITIVE_INFINITY,
        signal: ctx.signal,
      });
    }
    const deadlineMs = receivedAtMs + requestTimeoutMs;
    if (kind === 'write') {
      // Allowed to finish its transaction; the connection applies the stale rule.
      const scope = { deadlineMs: receivedAtMs + staleReplyAfterMs, signal: ctx.signal };
      return runHandler(handler, request, ctx, callid, scope);
    }
    const remainingMs = deadlineMs - performance.now();
    if (remainingMs <= 0) return timedOut(request, ctx, callid); // waited out its time in line
    // Abandoned by the deadline or by the client going away.
    const deadline = new RequestDeadline(deadlineMs, ctx.signal);
    let timer: NodeJS.Timeout | undefined;
    const expired = new Promise<null>((resolve) => {
      // Whole milliseconds: Node keeps one timer list per distinct delay, so a fractional
      // delay would make (and then drop) a list of its own for every request.
      timer = setTimeout(() => {
        deadline.expire(new DeadlineExceeded(requestTimeoutMs));
        resolve(null);
      }, Math.ceil(remainingMs));
    });
    try {
      const work = runHandler(handler, request, ctx, callid, deadline);
      // The late result, if any, is dropped: the ERR already holds this request's place.
      const reply = await Promise.race([work, expired]);
      return reply ?? timedOut(request, ctx, callid);
    } finally {
      clearTimeout(timer);
      deadline.dispose();
    }
  }

  async function runHandler(
    handler: CommandHandler,
    request: CommandRequest,
    ctx: ConnectionContext,
    callid: string | undefined,
    scope: DbRequestScope & { readonly signal: AbortSignal },
  ): Promise<string> {
    const reportInvariant = (detail: string) => {
      logger?.error(
        { command: request.name, clientIp: ctx.clientIp, detail },
        `invariant violated: ${detail}`,
      );
      stats.increment('invariant_violations');
    };
    const commandCtx: CommandContext = {
      services: services.forRequest?.(scope) ?? services,
      clientIp: ctx.clientIp,
      // Read when used: a request's deadline makes its signal on demand.
      get signal() {
        return scope.signal;
      },
      reportInvariant,
      replyByMs: scope.deadlineMs,
    };
    try {
      return encodeOk(await handler(request.args, commandCtx), callid);
    } catch (error) {
      // The deadline path reports the timeout; this result is only a placeholder.
      if (error instanceof DeadlineExceeded) return encodeErr('timeout', '', callid);
      return errorReply(error, request, ctx, callid);
    }
  }

  function timedOut(request: CommandRequest, ctx: ConnectionContext, callid?: string): string {
    stats.increment('request_timeouts');
    logger?.warn(
      { command: request.name, clientIp: ctx.clientIp, timeoutMs: requestTimeoutMs },
      'request passed its deadline; answering ERR timeout',
    );
    return encodeErr('timeout', defaultErrorText('timeout'), callid);
  }

  function errorReply(
    error: unknown,
    request: CommandRequest,
    ctx: ConnectionContext,
    callid: string | undefined,
  ): string {
    const context = {
      command: request.name,
      clientIp: ctx.clientIp,
      line: request.raw.slice(0, MAX_LOGGED_LINE),
    };
    if (error instanceof InvariantError) {
      logger?.error({ ...context, detail: error.detail }, `invariant violated: ${error.detail}`);
      stats.increment('invariant_violations');
      return encodeErr(error.code, error.message, callid);
    }
    if (error instanceof MogileError) return encodeErr(error.code, error.message, callid);
    if (error instanceof MetaBusyError) {
      stats.increment('db_busy');
      logger?.warn({ ...context, reason: error.reason }, error.message);
      return encodeErr('db_busy', defaultErrorText('db_busy'), callid);
    }
    if (error instanceof MetaConnectionError) {
      logger?.error({ ...context, err: error.cause }, error.message);
      return encodeErr('db', defaultErrorText('db'), callid);
    }
    // A unique key that refused a write and that no command caught (spec §3.4).
    if (error instanceof MetaDuplicateError) {
      return encodeErr('dup', defaultErrorText('dup'), callid);
    }
    if (ctx.signal.aborted) {
      logger?.debug({ ...context, err: error }, 'command stopped: client went away');
    } else {
      logger?.error({ ...context, err: error }, `command ${request.name} failed`);
    }
    return encodeErr('failure', defaultErrorText('failure'), callid);
  }

  async function handleLine(
    line: string | Uint8Array,
    ctx: ConnectionContext = LOCAL_CONNECTION,
    receivedAtMs: number = performance.now(),
  ): Promise<string | null> {
    return (await handleRequest(line, ctx, receivedAtMs)).reply;
  }

  async function handleRequest(
    line: string | Uint8Array,
    ctx: ConnectionContext,
    receivedAtMs: number,
  ): Promise<DispatchedReply> {
    const request = parseRequestLine(line);
    switch (request.kind) {
      case 'empty':
        return { reply: null, staleAtMs: Number.POSITIVE_INFINITY };
      case 'admin':
        return { reply: await handleAdmin(request, ctx), staleAtMs: Number.POSITIVE_INFINITY };
      case 'unknown':
        return {
          reply: await timeQuery(
            request.raw,
            commandName(request.raw),
            ctx,
            receivedAtMs,
            async () => encodeErr('unknown_command', defaultErrorText('unknown_command')),
          ),
          staleAtMs: receivedAtMs + staleReplyAfterMs,
        };
      case 'command': {
        const name = request.name.length <= MAX_COMMAND_LABEL ? request.name : 'unknown';
        const reply = await timeQuery(request.raw, name, ctx, receivedAtMs, () =>
          runCommand(request, ctx, receivedAtMs),
        );
        const exempt = deadlineKind(request.name) === 'long';
        const staleAtMs = exempt ? Number.POSITIVE_INFINITY : receivedAtMs + staleReplyAfterMs;
        return { reply, staleAtMs };
      }
    }
  }

  async function timeQuery(
    line: string,
    command: string,
    ctx: ConnectionContext,
    receivedAtMs: number,
    run: () => Promise<string>,
  ): Promise<string> {
    const startedMs = performance.now();
    const finish = stats.begin();
    let reply: string | undefined;
    try {
      reply = await run();
      return reply;
    } finally {
      const endedMs = performance.now();
      finish({
        clientIp: ctx.clientIp,
        line,
        totalMs: endedMs - Math.min(receivedAtMs, startedMs),
        workMs: endedMs - startedMs,
        command,
        result: replyResult(reply),
      });
    }
  }

  async function handleAdmin(request: AdminRequest, ctx: ConnectionContext): Promise<string> {
    if (!admin) return encodeErr('unknown_command', defaultErrorText('unknown_command'));
    const name = request.command.toLowerCase();
    if (PROCESS_CHANGING_ADMIN_COMMANDS.has(name) && forbidden(`!${name}`, ctx)) {
      return `ERROR: forbidden\r\n.\r\n`;
    }
    try {
      return await admin.handle(request, ctx);
    } catch (error) {
      // Nothing may crash on admin input (spec §7); the terminator keeps readers in step.
      logger?.error({ err: error, line: request.raw }, 'admin command failed');
      return `ERROR: ${request.command} failed\r\n.\r\n`;
    }
  }

  return { handleLine, handleRequest };
}

/** Longer command words are counted as `unknown`: a junk line cannot make a huge label. */
const MAX_COMMAND_LABEL = 64;
const COMMAND_WORD = new RegExp(`^\\S{1,${MAX_COMMAND_LABEL}}`);

/** The command word of a line that is not a command, for its metrics label. */
function commandName(line: string): string {
  const name = COMMAND_WORD.exec(line.trim())?.[0] ?? '';
  return /^[A-Za-z0-9_!]+$/.test(name) ? name.toLowerCase() : 'unknown';
}

/** `ok`, the ERR code, or `failure` when the handler threw past every catch. */
function replyResult(reply: string | undefined): string {
  if (reply === undefined) return 'failure';
  if (reply.startsWith('OK')) return 'ok';
  return /^ERR (\S+)/.exec(reply)?.[1] ?? 'failure';
}
