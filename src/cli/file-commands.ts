import { createWriteStream } from 'node:fs';
import { rename, rm, stat } from 'node:fs/promises';
import type { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { type Command, type CommanderError, InvalidArgumentError, Option } from 'commander';
import { MogileClient } from '../client/index.js';
import {
  describeError,
  type ErrorContext,
  EXIT_FAILURE,
  EXIT_USAGE,
  isUsageError,
} from './file-command-errors.js';
import { countingStream, transferProgress } from './progress.js';

interface CommonOptions {
  readonly trackers: string;
  readonly domain: string;
  readonly timeout?: string;
}

const STDIO = '-';

/**
 * `mogile put|get|cat|rm|mv|ls|info|paths`: the file commands, over MogileClient.
 * Messages are one line on stderr; exit 1 when the operation fails, 2 for usage errors.
 */
export function registerFileCommands(program: Command): void {
  fileCommand(program, 'put <key> <file>', 'store FILE (or - for stdin) under KEY')
    .addOption(new Option('--class <class>', 'class of the new file').env('MOGILE_CLASS'))
    .action(run(putFile));
  fileCommand(program, 'get <key> [file]', 'write the file to FILE (default: stdout)').action(
    run(getFile),
  );
  fileCommand(program, 'cat <key>', 'write the file to stdout').action(
    run((client, options, key: string) => getFile(client, options, key, STDIO)),
  );
  fileCommand(program, 'rm <key>', 'delete a key').action(
    run(async (client, _options, key: string) => {
      await client.delete(key);
      return { key };
    }),
  );
  fileCommand(program, 'mv <from> <to>', 'rename a key').action(
    run(async (client, _options, from: string, to: string) => {
      await client.rename(from, to);
      return { key: from, toKey: to };
    }),
  );
  fileCommand(
    program,
    'ls [prefix]',
    'list keys, optionally only those starting with PREFIX',
  ).action(run(listKeys));
  fileCommand(program, 'info <key>', 'show what the tracker knows about a key').action(
    run(showInfo),
  );
  fileCommand(program, 'paths <key>', 'print the URLs of the copies of a key')
    .option('--pathcount <n>', 'at most this many paths', parseCount)
    .option('--verify', 'let the tracker check each copy exists first')
    .action(run(showPaths));
}

function fileCommand(program: Command, usage: string, description: string): Command {
  return program
    .command(usage)
    .description(description)
    .addOption(
      new Option('--trackers <list>', 'comma-separated host:port of trackers')
        .env('MOGILE_TRACKERS')
        .default('127.0.0.1:7001'),
    )
    .addOption(new Option('--domain <domain>', 'domain').env('MOGILE_DOMAIN').default('default'))
    .option('--timeout <ms>', 'tracker request timeout in milliseconds')
    .exitOverride((error: CommanderError) => {
      // Help and version exit 0; every parsing problem is a usage error.
      process.exit(error.exitCode === 0 ? 0 : EXIT_USAGE);
    });
}

type Action = (
  client: MogileClient,
  options: Record<string, unknown> & CommonOptions,
  ...args: string[]
) => Promise<Partial<ErrorContext> | undefined>;

/** Builds the client, runs the action, reports any error as one line and sets the exit code. */
function run(action: Action) {
  return async (...commanderArgs: unknown[]): Promise<void> => {
    const command = commanderArgs[commanderArgs.length - 1] as Command;
    const options = command.opts() as Record<string, unknown> & CommonOptions;
    const args = command.args.filter((arg): arg is string => typeof arg === 'string');
    const context: ErrorContext = {
      domain: options.domain,
      key: args[0],
      toKey: args[1],
      className: options['class'] as string | undefined,
    };
    let client: MogileClient | undefined;
    try {
      client = new MogileClient({
        trackers: options.trackers
          .split(',')
          .map((entry) => entry.trim())
          .filter(Boolean),
        domain: options.domain,
        ...(options.timeout === undefined ? {} : { timeoutMs: Number(options.timeout) }),
      });
      await action(client, options, ...args);
    } catch (error) {
      if (isBrokenPipe(error)) return;
      process.stderr.write(`mogile: ${describeError(error, context)}\n`);
      process.exitCode = isUsageError(error) ? EXIT_USAGE : EXIT_FAILURE;
    } finally {
      await client?.close();
    }
  };
}

async function putFile(
  client: MogileClient,
  options: CommonOptions & { class?: string },
  key: string,
  file: string,
): Promise<undefined> {
  const fromStdin = file === STDIO;
  const sizeBytes = fromStdin ? undefined : (await stat(file)).size;
  const progress = transferProgress(`put ${key}`, sizeBytes);
  try {
    await client.store(key, fromStdin ? process.stdin : { path: file }, {
      class: options.class,
      onProgress: (sent) => progress.update(sent),
    });
  } finally {
    progress.stop();
  }
  return undefined;
}

async function getFile(
  client: MogileClient,
  _options: CommonOptions,
  key: string,
  file: string | undefined,
): Promise<undefined> {
  const toStdout = file === undefined || file === STDIO;
  const info = await client.info(key);
  const source = await client.get(key, { as: 'stream' });
  const progress = transferProgress(`get ${key}`, info.lengthBytes);
  try {
    if (toStdout) {
      await pipeline(source, countingStream(progress), process.stdout);
      return undefined;
    }
    // Written beside the target and renamed at the end: a failed or corrupt download
    // never leaves a partial file under the requested name.
    const partial = `${file}.mogile-partial-${process.pid}`;
    try {
      await pipeline(source, countingStream(progress), createWriteStream(partial));
      await rename(partial, file);
    } catch (error) {
      await rm(partial, { force: true });
      throw error;
    }
  } finally {
    progress.stop();
  }
  return undefined;
}

async function listKeys(
  client: MogileClient,
  _options: CommonOptions,
  prefix: string | undefined,
): Promise<undefined> {
  for await (const page of client.list(prefix ?? '')) {
    await write(process.stdout, page.map((key) => `${key}\n`).join(''));
  }
  return undefined;
}

async function showInfo(
  client: MogileClient,
  _options: CommonOptions,
  key: string,
): Promise<undefined> {
  const info = await client.info(key, { devices: true });
  // file_info names the checksum only for classes with a hashtype (spec §5.7); the
  // recorded one (MD5 for the others) is in file_debug, which every tracker answers.
  const checksum = info.checksum ?? (await client.debug({ fid: info.fid })).checksum;
  const lines = [
    ['key', info.key],
    ['domain', info.domain],
    ['class', info.class],
    ['fid', info.fid],
    ['length', info.lengthBytes],
    ['devcount', info.devcount],
    ['checksum', checksum === undefined || checksum === 'NONE' ? '' : checksum],
    ['devids', info.devids?.join(',') ?? ''],
  ];
  await write(process.stdout, lines.map(([name, value]) => `${name}: ${value}\n`).join(''));
  return undefined;
}

async function showPaths(
  client: MogileClient,
  options: CommonOptions & { pathcount?: number; verify?: boolean },
  key: string,
): Promise<undefined> {
  const paths = await client.getPaths(key, {
    pathcount: options.pathcount,
    noverify: !options.verify,
  });
  await write(process.stdout, paths.map((path) => `${path}\n`).join(''));
  return undefined;
}

function parseCount(text: string): number {
  const value = Number(text);
  if (!Number.isInteger(value) || value < 1) {
    throw new InvalidArgumentError('expected a positive integer');
  }
  return value;
}

function write(stream: Writable, text: string): Promise<void> {
  return new Promise((resolve, reject) => {
    stream.write(text, (error) => (error ? reject(error) : resolve()));
  });
}

function isBrokenPipe(error: unknown): boolean {
  return (error as NodeJS.ErrnoException | undefined)?.code === 'EPIPE';
}
