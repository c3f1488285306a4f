import { setTimeout as delay } from 'node:timers/promises';
import { type CommandHandler, isTruthy, type ReplyArgs, type RequestArgs } from '../command.js';

/** Longest timer Node can arm; longer ones would fire at once. */
const MAX_SLEEP_MS = 2 ** 31 - 1;
const DEFAULT_SLEEP_SECONDS = 10;

/** `noop` (spec tracker-protocol.md §6.21): replies `OK `. */
async function noop(): Promise<ReplyArgs> {
  return {};
}

/**
 * `test` (§6.21): a truthy `crash` raises an unexpected exception on purpose, so a client
 * can see that an internal failure becomes `ERR failure` and the tracker keeps serving.
 */
async function test(args: RequestArgs): Promise<ReplyArgs> {
  if (isTruthy(args.get('crash'))) throw new Error('test crash requested by the client');
  return {};
}

/**
 * `sleep` (§6.21): waits `duration` seconds (falsy → 10), then `OK `. The original hands
 * the value to Perl's `sleep`, which counts whole seconds (`duration=0.5` returns at once,
 * transcript `misc.sleep0`), so fractions are cut here too. Ends early when the client
 * goes away.
 */
async function sleep(args: RequestArgs, ctx: { signal: AbortSignal }): Promise<ReplyArgs> {
  const duration = args.get('duration');
  const seconds = isTruthy(duration)
    ? Math.trunc(Number.parseFloat(duration))
    : DEFAULT_SLEEP_SECONDS;
  const ms = Number.isFinite(seconds) && seconds > 0 ? Math.min(seconds * 1000, MAX_SLEEP_MS) : 0;
  await delay(ms, undefined, { signal: ctx.signal });
  return {};
}

export function registerMiscCommands(commands: Map<string, CommandHandler>): void {
  commands.set('noop', noop);
  commands.set('test', test);
  commands.set('sleep', sleep);
}
