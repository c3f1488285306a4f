import { createInterface } from 'node:readline/promises';
import type { Command } from 'commander';
import { adapterFor } from '../meta/open-meta-store.js';
import { planSetup, type SetupPlan, setupDatabase } from '../meta/setup-database.js';
import { SCHEMA_VERSION } from '../meta/tables.js';
import { dsnToUrl, isDatabaseUrl } from '../tracker/db-dsn.js';

interface SetupDbOptions {
  readonly db: string;
  readonly dbUser?: string;
  readonly dbPass?: string;
  readonly yes?: boolean;
}

/**
 * `mogile setup-db` (the original's mogdbsetup, metadata-schema.md §5): creates schema 17
 * in an empty database or upgrades an older MogileFS database in place. It shows what it
 * will do and asks first, unless `--yes`.
 */
export function registerSetupDbCommand(program: Command): void {
  program
    .command('setup-db')
    .description(`create or upgrade a MogileFS database to schema version ${SCHEMA_VERSION}`)
    .requiredOption('--db <url>', 'sqlite:PATH, postgres://… or mysql://… (or a Perl DBI DSN)')
    .option('--db-user <user>', 'user, when the URL names none')
    .option('--db-pass <password>', 'password, when the URL carries none')
    .option('--yes', 'do not ask for confirmation')
    .action(async (options: SetupDbOptions) => {
      try {
        process.exitCode = await runSetupDb(options);
      } catch (error) {
        process.stderr.write(`mogile setup-db: ${(error as Error).message}\n`);
        process.exitCode = 1;
      }
    });
}

async function runSetupDb(options: SetupDbOptions): Promise<number> {
  const url = isDatabaseUrl(options.db) ? options.db : dsnToUrl(options.db);
  if (url instanceof Error) throw url;
  const credentials = {
    ...(options.dbUser !== undefined && { user: options.dbUser }),
    ...(options.dbPass !== undefined && { password: options.dbPass }),
  };
  const adapter = await adapterFor(url, credentials);
  let plan: SetupPlan;
  try {
    plan = await planSetup(adapter);
  } finally {
    await adapter.close();
  }
  const out = (line: string) => process.stdout.write(`${line}\n`);
  for (const line of describePlan(plan)) out(line);
  if (plan.state === 'current' && plan.pendingSteps.length === 0 && !plan.missingTables.length) {
    return 0;
  }
  if (!options.yes && !(await confirm())) {
    out('nothing changed');
    return 1;
  }
  const result = await setupDatabase(url, credentials);
  for (const step of result.appliedSteps) out(`  done: ${step}`);
  out(
    result.outcome === 'created'
      ? `created MogileFS schema version ${SCHEMA_VERSION}`
      : `the database is now at MogileFS schema version ${SCHEMA_VERSION}`,
  );
  return 0;
}

function describePlan(plan: SetupPlan): string[] {
  if (plan.state === 'empty') {
    return [
      `the ${plan.engine} database is empty: schema version ${SCHEMA_VERSION} will be created`,
    ];
  }
  const found = plan.version === undefined ? 'no schema_version' : `version ${plan.version}`;
  const lines = [`the ${plan.engine} database is a MogileFS database (${found})`];
  if (plan.state === 'current' && !plan.pendingSteps.length && !plan.missingTables.length) {
    return [...lines, `it is up to date (schema version ${SCHEMA_VERSION}); nothing to do`];
  }
  for (const table of plan.missingTables) lines.push(`  to do: create table ${table}`);
  for (const step of plan.pendingSteps) lines.push(`  to do: ${step}`);
  if (plan.version !== SCHEMA_VERSION) {
    lines.push(`  to do: set schema_version to ${SCHEMA_VERSION}`);
  }
  lines.push('no data is dropped; every step checks whether its change is already there');
  return lines;
}

/** Asks on a terminal; without one, `--yes` is needed so scripts never hang. */
async function confirm(): Promise<boolean> {
  if (!process.stdin.isTTY) {
    process.stderr.write('mogile setup-db: not a terminal; pass --yes to go ahead\n');
    return false;
  }
  const prompt = createInterface({ input: process.stdin, output: process.stdout });
  try {
    const answer = await prompt.question('go ahead? [y/N] ');
    return /^y(es)?$/i.test(answer.trim());
  } finally {
    prompt.close();
  }
}
