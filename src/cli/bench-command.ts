import { existsSync, writeFileSync } from 'node:fs';
import { type Command, Option } from 'commander';
import { formatReport } from './bench/report-table.js';
import { runBench } from './bench/run-bench.js';

interface BenchCommandOptions {
  readonly trackers?: string;
  readonly trackerPid?: string;
  readonly domain: string;
  readonly class: string;
  readonly db?: string;
  readonly json?: string;
  readonly quick?: boolean;
  readonly warmup?: string;
}

/**
 * `mogile bench`: the performance suite. Without `--trackers` it starts its own cluster
 * (a tracker and three storage nodes, mindevcount 2) and a raw node:http file server, and
 * prints every figure as a ratio to the raw one; with `--trackers` it measures what a client
 * sees of that cluster. Exit 0 even when a target is missed: the figures are the output.
 */
export function registerBenchCommand(program: Command): void {
  program
    .command('bench')
    .description('measure stores, gets, get_paths, deletes and replication against targets')
    .option('--trackers <list>', 'comma-separated host:port; default: start a local cluster')
    .option(
      '--tracker-pid <pid>',
      'with --trackers: a tracker process on this machine; its RSS and CPU, with its child ' +
        "processes', are measured too",
    )
    .addOption(new Option('--domain <domain>', 'domain (with --trackers)').default('default'))
    .addOption(
      new Option('--class <class>', 'class of the stored files (with --trackers)').default(
        'default',
      ),
    )
    .option('--db <url>', "the local cluster's database (default: a fresh SQLite file)")
    .option('--json <file>', 'also write the results to FILE as JSON')
    .option('--quick', 'a small matrix that runs in seconds (a smoke test, not figures)')
    .option(
      '--warmup <files>',
      '4 KiB files put through each server, unreported, before the figures (default: 2000, ' +
        '20 with --quick; 0: none)',
    )
    .action(async (options: BenchCommandOptions) => {
      try {
        const report = await runBench({
          trackers: options.trackers
            ?.split(',')
            .map((t) => t.trim())
            .filter(Boolean),
          trackerPid: trackerPidOf(options),
          domain: options.domain,
          className: options.class,
          db: options.db,
          backendName: options.db?.split(':')[0],
          quick: options.quick,
          warmupFiles: warmupFilesOf(options),
          progress: (line) => process.stderr.write(`${line}\n`),
        });
        process.stdout.write(formatReport(report));
        if (options.json) writeFileSync(options.json, `${JSON.stringify(report, null, 2)}\n`);
      } catch (error) {
        process.stderr.write(`mogile bench: ${(error as Error).message}\n`);
        process.exit(1);
      }
    });
}

/** `--warmup`, checked: a whole number of files. */
function warmupFilesOf(options: BenchCommandOptions): number | undefined {
  if (options.warmup === undefined) return undefined;
  const files = Number(options.warmup);
  if (!/^\d+$/.test(options.warmup) || !Number.isSafeInteger(files)) {
    throw new Error(
      `--warmup must be a whole number of files, not ${JSON.stringify(options.warmup)}`,
    );
  }
  return files;
}

/** `--tracker-pid`, checked: a positive integer, and only with `--trackers`. */
function trackerPidOf(options: BenchCommandOptions): number | undefined {
  if (options.trackerPid === undefined) return undefined;
  const pid = Number(options.trackerPid);
  if (!Number.isSafeInteger(pid) || pid <= 0) {
    throw new Error(
      `--tracker-pid must be a process id, not ${JSON.stringify(options.trackerPid)}`,
    );
  }
  if (!options.trackers) throw new Error('--tracker-pid goes with --trackers');
  if (!existsSync(`/proc/${pid}/stat`)) throw new Error(`no process ${pid} on this machine`);
  return pid;
}
