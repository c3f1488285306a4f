import { type Kysely, sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DialectAdapter } from '../../src/meta/dialect-adapter.js';
import type { MetaStore } from '../../src/meta/meta-store.js';
import { adapterFor, openMetaStore } from '../../src/meta/open-meta-store.js';
import type { QueryEvent } from '../../src/meta/query-observer.js';
import type { Database } from '../../src/meta/tables.js';
import { ClusterView } from '../../src/tracker/cluster-view.js';
import { REAPER_SCHEDULE, Reaper } from '../../src/workers/reaper.js';
import { type WorkerClock, WorkerRunner } from '../../src/workers/runner.js';
import type { WorkerServices } from '../../src/workers/worker-services.js';
import { backends } from '../helpers/meta-backends.js';

// The reaper under load (architecture.md §5, behaviour.md §11): 100,000 copies on a dead
// device are drained in passes of a constant number of statements and a bounded number of
// rows, and the runner never lets the passes come faster than one per second.

const COPIES = 100_000;
const BATCH = 1000;
/** BEGIN, SELECT, INSERT, DELETE, COMMIT; a bounded COUNT more with queue_size_for_reaper. */
const STATEMENTS_PER_PASS = 5;
const NOW = 1_700_000_000;

/** Fids from+1 … from+count on a device, in one INSERT … SELECT from a generated series. */
function copiesSql(devid: number, from: number, count: number): string {
  // Five digits of 0–9 crossed: no deep recursion (MySQL caps it at 1000 by default).
  return `INSERT INTO file_on (fid, devid)
    WITH RECURSIVE d (n) AS (SELECT 0 UNION ALL SELECT n + 1 FROM d WHERE n < 9)
    SELECT ${from + 1} + a.n + 10 * b.n + 100 * c.n + 1000 * e.n + 10000 * f.n, ${devid}
    FROM d a, d b, d c, d e, d f
    WHERE a.n + 10 * b.n + 100 * c.n + 1000 * e.n + 10000 * f.n < ${count}`;
}

describe.each(backends())('reaper load on $name', (backend) => {
  let drop: () => Promise<void>;
  let meta: MetaStore;
  let raw: DialectAdapter;
  let db: Kysely<Database>;
  let cluster: ClusterView;
  /** Every statement the store ran, with the (virtual) time it ran at. */
  const statements: { sql: string; parameters: readonly unknown[]; atMs: number }[] = [];
  let virtualMs = 0;
  let reaper: Reaper;

  const count = async (query: string): Promise<number> => {
    const result = await sql<{ n: number | string }>`${sql.raw(query)}`.execute(db);
    return Number(result.rows[0]!.n);
  };
  const onDevice = (devid: number) =>
    count(`SELECT COUNT(*) AS n FROM file_on WHERE devid = ${devid}`);

  beforeAll(async () => {
    const fresh = await backend.freshDatabase();
    drop = fresh.drop;
    meta = await openMetaStore(fresh.url, {
      onQuery: (event: QueryEvent) =>
        statements.push({ sql: event.sql, parameters: event.parameters, atMs: virtualMs }),
    });
    raw = await adapterFor(fresh.url);
    db = raw.db;
    const host = await meta.createHost('s1', '127.0.0.1', { status: 'alive', httpPort: 7500 });
    for (const devid of [1, 2, 3]) {
      await meta.createDevice({
        devid,
        hostid: host.hostid,
        status: devid === 1 ? 'dead' : 'alive',
        weight: 100,
      });
    }
    const started = Date.now();
    await sql.raw(copiesSql(1, 0, COPIES)).execute(db);
    // Device 2 (alive) shares fids 1–1000 with the dead device and has some of its own.
    await sql.raw(copiesSql(2, 0, 1000)).execute(db);
    await sql.raw(copiesSql(2, COPIES, 1000)).execute(db);
    // One fid already queued for replication: insert-if-absent keeps its row as it is.
    await db
      .insertInto('file_to_replicate')
      .values({ fid: 7, nexttry: 123, fromdevid: null, failcount: 3, flags: 0 })
      .execute();
    console.log(`${backend.name}: ${COPIES + 2000} file_on rows in ${Date.now() - started} ms`);
    cluster = new ClusterView(meta);
    await cluster.refresh();
    const services = { meta, cluster, nowSeconds: () => NOW } as unknown as WorkerServices;
    reaper = new Reaper({ services });
  }, 120_000);

  afterAll(async () => {
    await raw?.close();
    await meta?.close();
    await drop?.();
  });

  it('drains 100,000 copies in passes of 5 statements and ≤ 1000 rows', async () => {
    expect(await onDevice(1)).toBe(COPIES);
    const started = Date.now();
    const passes: number[] = [];
    for (let pass = 0; pass < 100; pass++) {
      const before = statements.length;
      const { reaped } = await reaper.runOnce();
      const ran = statements.slice(before);
      passes.push(ran.length);
      expect(reaped).toBe(BATCH);
      expect(ran.length).toBeLessThanOrEqual(STATEMENTS_PER_PASS);
      // No statement carries more than a batch of fids (plus its constants).
      for (const statement of ran) {
        expect(statement.parameters.length).toBeLessThanOrEqual(BATCH + 2);
      }
      // Every DELETE is confined to the dead device.
      const deletes = ran.filter((statement) => /^delete/i.test(statement.sql));
      expect(deletes).toHaveLength(1);
      expect(deletes[0]!.sql).toMatch(/[`"]?devid[`"]? = (\?|\$1) and/);
      expect(deletes[0]!.parameters[0]).toBe(1);
    }
    const elapsedMs = Date.now() - started;
    console.log(
      `${backend.name}: 100 passes in ${elapsedMs} ms, ${Math.max(...passes)} statements per pass at most`,
    );
    expect(await onDevice(1)).toBe(0);
    expect(await onDevice(2)).toBe(2000);
    expect(await count('SELECT COUNT(*) AS n FROM file_to_replicate')).toBe(COPIES);
    expect(
      await count(
        `SELECT COUNT(*) AS n FROM file_to_replicate WHERE nexttry = ${NOW + 1} AND fid <= ${COPIES}`,
      ),
    ).toBe(COPIES - 1);
    const kept = await db
      .selectFrom('file_to_replicate')
      .selectAll()
      .where('fid', '=', 7)
      .executeTakeFirstOrThrow();
    expect(kept).toMatchObject({ nexttry: 123, failcount: 3 });
    // Nothing left: one SELECT in a transaction, then the device is left alone for 60 s.
    let before = statements.length;
    expect(await reaper.runOnce()).toEqual({ reaped: 0 });
    expect(statements.length - before).toBeLessThanOrEqual(3);
    before = statements.length;
    expect(await reaper.runOnce()).toEqual({ reaped: 0 });
    expect(statements.length).toBe(before);
  }, 120_000);

  it('takes fewer or none when the replication queue reaches queue_size_for_reaper', async () => {
    await sql.raw(copiesSql(3, 200_000, 1000)).execute(db);
    await meta.updateDevice(3, { status: 'dead' });
    await meta.setSetting('queue_size_for_reaper', String(COPIES + 300));
    await cluster.refresh();
    let before = statements.length;
    expect(await reaper.runOnce()).toEqual({ reaped: 300 });
    // The bounded COUNT, then the batch; the drained device 1 is not looked at again yet.
    expect(statements.length - before).toBe(STATEMENTS_PER_PASS + 1);
    before = statements.length;
    expect(await reaper.runOnce()).toEqual({ reaped: 0 });
    expect(statements.length - before).toBe(1);
    expect(await onDevice(3)).toBe(700);
    await meta.setSetting('queue_size_for_reaper', null);
    await cluster.refresh();
    expect(await reaper.runOnce()).toEqual({ reaped: 700 });
    expect(await onDevice(3)).toBe(0);
    expect(await onDevice(2)).toBe(2000);
  });

  it('is run at most once a second, so statements per second stay under the bound', async () => {
    await sql.raw(copiesSql(3, 300_000, 20_000)).execute(db);
    // A clock whose time moves only when the runner pauses: no real sleeping.
    const clock: WorkerClock = {
      now: () => virtualMs,
      sleep(ms, signal) {
        return new Promise((resolve) => {
          setImmediate(() => {
            // A wake ends the pause early: only part of it passes.
            virtualMs += signal.aborted ? Math.min(ms, 10) : ms;
            resolve();
          });
        });
      },
    };
    const runner = new WorkerRunner({
      workers: [{ name: 'reaper', worker: reaper, ...REAPER_SCHEDULE }],
      clock,
    });
    const firstStatement = statements.length;
    runner.start();
    // Someone keeps waking the workers (replicate_now): it must not speed the reaper up.
    while ((runner.totals().get('reaper')?.get('reaped') ?? 0) < 20_000) {
      runner.wake();
      await new Promise((resolve) => setImmediate(resolve));
    }
    await runner.stop();
    const ran = statements.slice(firstStatement);
    const perSecond = new Map<number, { statements: number }>();
    // Passes run at one virtual instant each; count them in every 1 s window.
    for (const statement of ran) {
      let most = 0;
      for (const other of ran) {
        if (other.atMs >= statement.atMs && other.atMs < statement.atMs + 1000) most += 1;
      }
      perSecond.set(statement.atMs, { statements: most });
    }
    const worst = Math.max(...[...perSecond.values()].map((window) => window.statements));
    const seconds = (ran.at(-1)!.atMs - ran[0]!.atMs) / 1000;
    console.log(
      `${backend.name}: 20,000 copies in ${seconds} virtual s, ${ran.length} statements, ` +
        `at most ${worst} in any second`,
    );
    expect(worst).toBeLessThanOrEqual(STATEMENTS_PER_PASS);
    expect(seconds).toBeGreaterThanOrEqual(19);
    expect(await onDevice(3)).toBe(0);
  }, 60_000);
});
