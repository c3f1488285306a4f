/**
 * The full suite (issue 8): `mogile bench`'s matrix against a cluster it starts itself, on
 * SQLite, then on PostgreSQL (127.0.0.1:5432) and on MySQL or MariaDB (127.0.0.1:3306),
 * each when it answers; prints the figures and the targets table for each.
 * `BENCH_JSON_DIR=dir` also writes `dir/suite-<backend>.json` for comparing runs.
 */
import { writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { formatReport } from '../src/cli/bench/report-table.js';
import { runBench } from '../src/cli/bench/run-bench.js';
import { backends } from '../test/helpers/meta-backends.js';

const SERVERS = [
  { name: 'postgres', label: 'PostgreSQL', port: 5432 },
  { name: 'mysql', label: 'MySQL/MariaDB', port: 3306 },
] as const;

export async function run(): Promise<void> {
  await runOne('sqlite', undefined);
  for (const server of SERVERS) {
    if (!(await reachable('127.0.0.1', server.port))) {
      process.stdout.write(
        `\n${server.label} is not reachable at 127.0.0.1:${server.port}: skipped\n`,
      );
      continue;
    }
    const backend = backends().find((candidate) => candidate.name === server.name);
    if (!backend) continue;
    const database = await backend.freshDatabase();
    try {
      await runOne(server.name, database.url);
    } finally {
      await database.drop();
    }
  }
}

async function runOne(backend: string, db: string | undefined): Promise<void> {
  process.stdout.write(`\n### ${backend}\n\n`);
  const report = await runBench({
    db,
    backendName: backend,
    progress: (line) => process.stderr.write(`  ${backend}: ${line}\n`),
  });
  process.stdout.write(formatReport(report));
  const dir = process.env['BENCH_JSON_DIR'];
  if (dir)
    writeFileSync(join(dir, `suite-${backend}.json`), `${JSON.stringify(report, null, 2)}\n`);
}

function reachable(host: string, port: number): Promise<boolean> {
  return new Promise((done) => {
    const socket = connect({ host, port, timeout: 1000 });
    socket.once('connect', () => {
      socket.destroy();
      done(true);
    });
    socket.once('timeout', () => {
      socket.destroy();
      done(false);
    });
    socket.once('error', () => done(false));
  });
}
