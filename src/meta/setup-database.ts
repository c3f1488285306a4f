import type { DialectAdapter } from './dialect-adapter.js';
import { MetaSchemaError } from './errors.js';
import { ensureHighWaterRow } from './fid-allocation.js';
import { adapterFor, type OpenOptions } from './open-meta-store.js';
import { runUpgradeSteps, UPGRADE_STEPS } from './schema-upgrade.js';
import { SCHEMA_TABLES, SCHEMA_VERSION } from './tables.js';

/** What `mogile setup-db` finds before it changes anything. */
export interface SetupPlan {
  readonly engine: DialectAdapter['engine'];
  /** `empty`: no tables; `old`: a MogileFS database below 17; `current`: version 17. */
  readonly state: 'empty' | 'old' | 'current';
  /** The stored schema_version; undefined when there is none (empty, or never written). */
  readonly version: number | undefined;
  /** Upgrade steps whose change is missing, in the order they would run. */
  readonly pendingSteps: readonly string[];
  readonly missingTables: readonly string[];
}

export interface SetupResult extends SetupPlan {
  /** What was done: schema created, database upgraded, or nothing needed. */
  readonly outcome: 'created' | 'upgraded' | 'up_to_date';
  readonly appliedSteps: readonly string[];
}

/** Looks at the database without changing it; refuses what setup-db must not touch. */
export async function planSetup(adapter: DialectAdapter): Promise<SetupPlan> {
  const tables = await adapter.listTables();
  const base = { engine: adapter.engine, missingTables: SCHEMA_TABLES };
  if (tables.length === 0) {
    return { ...base, state: 'empty', version: undefined, pendingSteps: [] };
  }
  if (!tables.includes('server_settings')) {
    throw new MetaSchemaError(
      `the database is not a MogileFS database (no server_settings table; found ` +
        `${tables.sort().join(', ')}); setup-db changes only empty or MogileFS databases`,
    );
  }
  const row = await adapter.db
    .selectFrom('server_settings')
    .select('value')
    .where('field', '=', 'schema_version')
    .executeTakeFirst();
  const version = row?.value == null ? undefined : Number(row.value);
  if (version !== undefined && !(Number.isInteger(version) && version >= 0)) {
    throw new MetaSchemaError(`the database has an unreadable schema_version "${row?.value}"`);
  }
  if (version !== undefined && version > SCHEMA_VERSION) {
    throw new MetaSchemaError(
      `the database has MogileFS schema version ${version}, newer than ${SCHEMA_VERSION}; ` +
        'setup-db does not downgrade',
    );
  }
  const pendingSteps: string[] = [];
  for (const step of UPGRADE_STEPS) {
    if (!tables.includes(step.table)) continue;
    if (!(await step.isPresent(adapter.db, adapter.upgrade))) pendingSteps.push(step.name);
  }
  return {
    ...base,
    state: version === SCHEMA_VERSION ? 'current' : 'old',
    version,
    pendingSteps,
    missingTables: SCHEMA_TABLES.filter((table) => !tables.includes(table)),
  };
}

/**
 * `mogile setup-db` (mogdbsetup): creates schema 17 in an empty database; upgrades an
 * older MogileFS database in place by creating the missing tables and running every
 * upgrade step whose change is missing (metadata-schema.md §5), then writes
 * schema_version 17. Nothing is ever dropped; running it twice changes nothing.
 */
export async function setupDatabase(url: string, options: OpenOptions = {}): Promise<SetupResult> {
  const adapter = await adapterFor(url, options);
  try {
    const plan = await planSetup(adapter);
    await adapter.createSchema();
    const appliedSteps =
      plan.state === 'empty' ? [] : await runUpgradeSteps(adapter.db, adapter.upgrade);
    if (plan.version !== SCHEMA_VERSION) {
      await adapter.db.transaction().execute(async (trx) => {
        await trx.deleteFrom('server_settings').where('field', '=', 'schema_version').execute();
        await trx
          .insertInto('server_settings')
          .values({ field: 'schema_version', value: String(SCHEMA_VERSION) })
          .execute();
      });
    }
    await ensureHighWaterRow(adapter.db);
    await adapter.syncCommitted?.();
    const outcome =
      plan.state === 'empty'
        ? 'created'
        : plan.state === 'current' && appliedSteps.length === 0 && plan.missingTables.length === 0
          ? 'up_to_date'
          : 'upgraded';
    return { ...plan, outcome, appliedSteps };
  } finally {
    await adapter.close();
  }
}
