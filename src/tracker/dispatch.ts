import { performance } from 'node:perf_hooks';
import type { Logger } from 'pino';
import { MetaDuplicateError } from '../meta/index.js';
import { defaultErrorText, MogileError } from '../protocol/errors.js';
import { InvariantError } from '../protocol/invariant-error.js';
import { encodeErr, encodeOk } from '../protocol/reply.js';
import { type AdminRequest, type CommandRequest, parseRequestLine } from '../protocol/request.js';
import type { CommandContext, CommandRegistry } from './command.js';
import { QueryStats } from './query-stats.js';
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

  async function runCommand(request: CommandRequest, ctx: ConnectionContext): Promise<string> {
    // Echo only this request's callid: the original could leak an earlier one
    // (transcripts README, quirk 2).
    const callid = request.args.get('callid');
    const handler = registry.get(request.name);
    if (!handler) return encodeErr('unknown_command', defaultErrorText('unknown_command'), callid);
    const commandCtx: CommandContext = { services, clientIp: ctx.clientIp, signal: ctx.signal };
    try {
      return encodeOk(await handler(request.args, commandCtx), callid);
    } catch (error) {
      return errorReply(error, request, ctx, callid);
    }
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
    const request = parseRequestLine(line);
    switch (request.kind) {
      case 'empty':
        return null;
      case 'admin':
        return handleAdmin(request, ctx);
      case 'unknown':
        return timeQuery(request.raw, ctx, receivedAtMs, async () =>
          encodeErr('unknown_command', defaultErrorText('unknown_command')),
        );
      case 'command':
        return timeQuery(request.raw, ctx, receivedAtMs, () => runCommand(request, ctx));
    }
  }

  async function timeQuery(
    line: string,
    ctx: ConnectionContext,
    receivedAtMs: number,
    run: () => Promise<string>,
  ): Promise<string> {
    const startedMs = performance.now();
    const finish = stats.begin();
    try {
      return await run();
    } finally {
      const endedMs = performance.now();
      finish({
        clientIp: ctx.clientIp,
        line,
        totalMs: endedMs - Math.min(receivedAtMs, startedMs),
        workMs: endedMs - startedMs,
      });
    }
  }

  async function handleAdmin(request: AdminRequest, ctx: ConnectionContext): Promise<string> {
    if (!admin) return encodeErr('unknown_command', defaultErrorText('unknown_command'));
    try {
      return await admin.handle(request, ctx);
    } catch (error) {
      // Nothing may crash on admin input (spec §7); the terminator keeps readers in step.
      logger?.error({ err: error, line: request.raw }, 'admin command failed');
      return `ERROR: ${request.command} failed\r\n.\r\n`;
    }
  }

  return { handleLine };
}
