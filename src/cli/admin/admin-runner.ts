import type { Writable } from 'node:stream';
import { type Command, type CommanderError, InvalidArgumentError, Option } from 'commander';
import { MogileAdmin } from '../../client/index.js';
import { AdminUsageError, describeAdminError, EXIT_USAGE, exitCodeFor } from './admin-errors.js';

/** Options every admin command takes, wherever they appear on the line. */
export interface AdminGlobalOptions {
  readonly trackers: string;
  readonly timeout?: string;
  readonly json?: boolean;
}

export interface AdminContext {
  readonly admin: MogileAdmin;
  readonly trackers: readonly string[];
  readonly json: boolean;
  /** The command's own options merged with the global ones. */
  readonly options: Readonly<Record<string, unknown>>;
  /** `--json`: the value, pretty-printed; otherwise the text `render` returns. */
  result(value: unknown, render: () => string): Promise<void>;
  print(text: string): Promise<void>;
}

export type AdminAction = (ctx: AdminContext, ...args: string[]) => Promise<void>;

/** Adds the shared options to a command that talks to trackers. */
export function withAdminOptions(command: Command): Command {
  return command
    .addOption(
      new Option('--trackers <list>', 'comma-separated host:port of trackers')
        .env('MOGILE_TRACKERS')
        .default('127.0.0.1:7001'),
    )
    .option('--timeout <ms>', 'tracker request timeout in milliseconds (default 15000)')
    .option('--json', 'print JSON instead of text');
}

/** Help exits 0; every parsing problem is a usage error (exit 2). */
export function usageExit(command: Command): Command {
  return command.exitOverride((error: CommanderError) => {
    process.exit(error.exitCode === 0 ? 0 : EXIT_USAGE);
  });
}

/**
 * A command under `parent`. The shared options live on `mogile admin` itself, so they
 * work before or after the subcommand (`mogile admin --json host list` or
 * `mogile admin host list --json`), as mogadm's `--trackers` does.
 */
export function adminCommand(parent: Command, usage: string, description: string): Command {
  return parent.command(usage).description(description);
}

/**
 * Wraps an action: builds the admin client, runs it, and turns any error into one line
 * on stderr and exit code 1 (2 for usage). `subject` names what the command works on.
 */
export function runAdmin(action: AdminAction, subject?: (args: string[]) => string) {
  return async (...commanderArgs: unknown[]): Promise<void> => {
    const command = commanderArgs[commanderArgs.length - 1] as Command;
    const args = commanderArgs.slice(0, -2).filter((arg): arg is string => typeof arg === 'string');
    const options = command.optsWithGlobals() as Record<string, unknown> & AdminGlobalOptions;
    let admin: MogileAdmin | undefined;
    try {
      const trackers = splitTrackers(options.trackers);
      const timeoutMs = options.timeout === undefined ? undefined : positive(options.timeout);
      admin = new MogileAdmin({ trackers, ...(timeoutMs === undefined ? {} : { timeoutMs }) });
      const json = options.json === true;
      const ctx: AdminContext = {
        admin,
        trackers,
        json,
        options,
        result: (value, render) =>
          write(process.stdout, json ? `${JSON.stringify(value, null, 2)}\n` : render()),
        print: (text) => write(process.stdout, text),
      };
      await action(ctx, ...args);
    } catch (error) {
      if ((error as NodeJS.ErrnoException | undefined)?.code === 'EPIPE') return;
      process.stderr.write(`mogile admin: ${describeAdminError(error, subject?.(args))}\n`);
      process.exitCode = exitCodeFor(error);
    } finally {
      await admin?.close();
    }
  };
}

export function splitTrackers(list: string): string[] {
  const trackers = list
    .split(',')
    .map((entry) => entry.trim())
    .filter(Boolean);
  if (trackers.length === 0) throw new AdminUsageError('--trackers names no tracker');
  return trackers;
}

function positive(text: string): number {
  const value = Number(text);
  if (!Number.isFinite(value) || value <= 0) {
    throw new AdminUsageError(`--timeout: "${text}" is not a positive number of milliseconds`);
  }
  return value;
}

/** Commander parser for whole numbers ≥ `min`. */
export function integerOption(min = 0) {
  return (text: string): number => {
    if (!/^\d+$/.test(text.trim()) || Number(text) < min) {
      throw new InvalidArgumentError(`expected a whole number of at least ${min}`);
    }
    return Number(text);
  };
}

/** Commander parser for positive seconds, fractions allowed. */
export function secondsOption(text: string): number {
  const value = Number(text);
  if (!Number.isFinite(value) || value <= 0) {
    throw new InvalidArgumentError('expected a number of seconds above 0');
  }
  return value;
}

export function write(stream: Writable, text: string): Promise<void> {
  return new Promise((resolve, reject) => {
    stream.write(text, (error) => (error ? reject(error) : resolve()));
  });
}
