import type { Command } from 'commander';
import { startDevCluster } from './dev-cluster.js';

interface DevOptions {
  readonly data: string;
  readonly port: string;
  readonly httpPort: string;
}

export function registerDevCommand(program: Command): void {
  program
    .command('dev')
    .description(
      'run a whole local cluster in one process: tracker, SQLite and three storage nodes',
    )
    .option('--data <dir>', 'folder for the database and the stored files', '.mogile-dev')
    .option('--port <port>', 'tracker port', '7001')
    .option('--http-port <port>', 'dashboard, metrics and file gateway port', '7002')
    .action(async (options: DevOptions) => {
      const port = Number(options.port);
      const httpPort = Number(options.httpPort);
      for (const [flag, value] of [
        ['--port', port],
        ['--http-port', httpPort],
      ] as const) {
        if (!Number.isInteger(value) || value < 0 || value > 65535) {
          process.stderr.write(`mogile dev: ${flag} must be a port number\n`);
          process.exit(2);
        }
      }
      try {
        const cluster = await startDevCluster({
          dataDir: options.data,
          trackerPort: port,
          httpPort,
        });
        const web = cluster.web?.address;
        const dashboard = web ? `http://${web.host}:${web.port}/` : undefined;
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
          ...(dashboard
            ? [`  web      ${dashboard}  (dashboard, /metrics, /file/default/KEY)`]
            : []),
          '',
          'Try it from another shell:',
          `  echo hello | npx mogile put --trackers ${trackers} greeting -`,
          `  npx mogile get --trackers ${trackers} greeting -`,
          '',
          'Stop with Ctrl-C; the data stays for the next start.',
          ...(web ? [`listening on ${web.host}:${web.port} (http)`] : []),
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
