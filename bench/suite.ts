/**
 * The full suite (issue 8): `mogile bench`'s matrix against a cluster it starts itself, on
 * SQLite and, when PostgreSQL answers at 127.0.0.1:5432, on PostgreSQL too; prints the
 * figures and the targets table for each. `BENCH_JSON_DIR=dir` also writes
 * `dir/suite-<backend>.json` for comparing runs.
 */
import { writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { formatReport } from '../src/cli/bench/report-table.js';
import { runBench } from '../src/cli/bench/run-bench.js';
import { backends } from '../test/helpers/meta-backends.js';

const PG_PORT = 5432;

export async function run(): Promise<void> {
  await runOne('sqlite', undefined);
  if (!(await reachable('127.0.0.1', PG_PORT))) {
    process.stdout.write(`\nPostgreSQL is not reachable at 127.0.0.1:${PG_PORT}: skipped\n`);
    return;
  }
  const postgres = backends().find((backend) => backend.name === 'postgres');
  if (!postgres) return;
  const database = await postgres.freshDatabase();
  try {
    await runOne('postgres', database.url);
  } finally {
    await database.drop();
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
