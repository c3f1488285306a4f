import type { Command } from 'commander';
import { startDevCluster } from './dev-cluster.js';

interface DevOptions {
  readonly data: string;
  readonly port: string;
}

export function registerDevCommand(program: Command): void {
  program
    .command('dev')
    .description(
      'run a whole local cluster in one process: tracker, SQLite and three storage nodes',
    )
    .option('--data <dir>', 'folder for the database and the stored files', '.mogile-dev')
    .option('--port <port>', 'tracker port', '7001')
    .action(async (options: DevOptions) => {
      const port = Number(options.port);
      if (!Number.isInteger(port) || port < 0 || port > 65535) {
        process.stderr.write(`mogile dev: --port must be a port number, got "${options.port}"\n`);
        process.exit(2);
      }
      try {
        const cluster = await startDevCluster({ dataDir: options.data, trackerPort: port });
        const tracker = cluster.tracker.addresses[0]!;
        const trackers = `${tracker.host}:${tracker.port}`;
        const lines = [
          'mogile dev: a local cluster is running',
          `  tracker  ${trackers}  (SQLite database in ${cluster.dataDir})`,
          ...cluster.nodes.map(
            (node) =>
              `  storage  ${node.name} on 127.0.0.1:${node.port}, devices ${node.devids.map((d) => `dev${d}`).join(' ')}`,
          ),
          '  domain   default (class default keeps 2 copies)',
          '',
          'Try it from another shell:',
          `  echo hello | npx mogile put --trackers ${trackers} greeting -`,
          `  npx mogile get --trackers ${trackers} greeting -`,
          '',
          'Stop with Ctrl-C; the data stays for the next start.',
          `listening on ${trackers}`,
        ];
        process.stdout.write(`${lines.join('\n')}\n`);
        for (const signal of ['SIGINT', 'SIGTERM'] as const) {
          process.once(signal, () => {
            void cluster.close().then(() => process.exit(0));
          });
        }
      } catch (error) {
        process.stderr.write(`mogile dev: ${(error as Error).message}\n`);
        process.exit(1);
      }
    });
}
