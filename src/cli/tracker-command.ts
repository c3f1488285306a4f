import { existsSync, rmSync, writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import { type ListenAddress, loadTrackerConfig, type TrackerConfig } from '../tracker/config.js';
import { startTracker } from '../tracker/tracker.js';
import { startTrackerWeb } from '../web/tracker-web.js';
import { readConfigFile } from './config-file.js';
import { tuneHeapForServer } from './heap-tuning.js';
import { parseTrackerArgs } from './tracker-args.js';

/** Read when no `-c` is given, like mogilefsd (spec/behaviour.md §14). */
const DEFAULT_CONFIG_FILE = '/etc/mogilefs/mogilefsd.conf';

interface TrackerCommandOptions {
  readonly config?: string;
  readonly skipconfig?: boolean;
}

export function registerTrackerCommand(program: Command): void {
  program
    .command('tracker')
    .description('run a tracker')
    .option('-c, --config <file>', `mogilefsd.conf-style file (default ${DEFAULT_CONFIG_FILE})`)
    .option('-s, --skipconfig', 'read no config file')
    .allowUnknownOption()
    .allowExcessArguments()
    .addHelpText(
      'after',
      '\nEvery mogilefsd.conf key is also an option, --key-with-dashes VALUE, e.g.\n' +
        '  mogile tracker --listen 127.0.0.1:7001 --db sqlite:/var/lib/mogile.db\n' +
        'The command line wins over the file.',
    )
    .action(async (options: TrackerCommandOptions, command: Command) => {
      try {
        await runTracker(loadConfig(options, command.args));
      } catch (error) {
        process.stderr.write(`mogile tracker: ${(error as Error).message}\n`);
        process.exit(1);
      }
    });
}

function loadConfig(options: TrackerCommandOptions, args: readonly string[]): TrackerConfig {
  const overrides = parseTrackerArgs(args);
  const fileName =
    options.config ??
    (options.skipconfig || !existsSync(DEFAULT_CONFIG_FILE) ? undefined : DEFAULT_CONFIG_FILE);
  return loadTrackerConfig({
    ...(fileName === undefined ? {} : { file: readConfigFile(fileName), fileName }),
    overrides,
  });
}

async function runTracker(config: TrackerConfig): Promise<void> {
  if (config.daemonize) {
    process.stderr.write('mogile tracker: daemonize is not supported; use a service manager\n');
  }
  tuneHeapForServer();
  const tracker = await startTracker(config);
  const web = await startTrackerWeb(tracker).catch(async (error: unknown) => {
    await tracker.close();
    throw new Error(`http_listen: ${(error as Error).message}`);
  });
  if (config.pidfile) writeFileSync(config.pidfile, `${process.pid}\n`);
  // Printed before the protocol lines, so whoever waits for those sees this one too.
  if (web) process.stdout.write(`listening on ${formatAddress(web.address)} (http)\n`);
  for (const address of tracker.addresses) {
    process.stdout.write(`listening on ${formatAddress(address)}\n`);
  }
  // Repeated signals while stopping are ignored: the stop is bounded by shutdown_timeout.
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.on(signal, () => {
      tracker.logger.info({ signal }, 'stopping on signal');
      void tracker.close();
    });
  }
  await tracker.stopped;
  await web?.close();
  if (config.pidfile) rmSync(config.pidfile, { force: true });
  process.exit(0);
}

function formatAddress({ host, port }: ListenAddress): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}
