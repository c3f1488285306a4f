import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { type MetaStore, openMetaStore } from '../../src/meta/index.js';
import { CLAIM_LEASE_SECONDS } from '../../src/meta/queue-claims.js';
import { ClaimKeeper } from '../../src/workers/claim-keeper.js';
import { DutyLease, LeasedWorker } from '../../src/workers/duty-lease.js';

describe('ClaimKeeper and DutyLease', () => {
  const cleanups: (() => Promise<void> | void)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  async function store(): Promise<MetaStore> {
    const dir = mkdtempSync(join(tmpdir(), 'mogile-keeper-'));
    const meta = await openMetaStore(`sqlite:${join(dir, 'm.db')}`);
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    cleanups.push(() => meta.close());
    return meta;
  }

  it('renews claims, settles with the current token, and lets go of lost ones', async () => {
    const meta = await store();
    let now = 1000;
    const keeper = new ClaimKeeper({
      meta,
      scope: { table: 'file_to_replicate' },
      nowSeconds: () => now,
    });
    cleanups.push(() => keeper.close());
    await meta.queueReplication(1, 0);
    await meta.queueReplication(2, 0);
    const tasks = await meta.claimReplicationTasks(now, 10);
    keeper.hold(tasks);
    expect(keeper.mayAct(1)).toBe(true);
    now += 6;
    await keeper.renew();
    // fid 2's claim is stolen in the database behind the keeper's back (a stalled tracker).
    now += CLAIM_LEASE_SECONDS;
    expect(keeper.mayAct(1)).toBe(false);
    await meta.deferQueueRow('file_to_replicate', 2, now + 100, 0);
    await keeper.renew();
    expect(keeper.mayAct(1)).toBe(true);
    expect(keeper.mayAct(2)).toBe(false);
    expect(await keeper.settle(2, async () => undefined)).toBe(false);
    expect(
      await keeper.settle(1, (lease) => meta.finishQueueRow('file_to_replicate', 1, lease)),
    ).toBe(true);
    expect((await meta.fidQueues(1)).replicate).toBeUndefined();
    expect((await meta.fidQueues(2)).replicate).toMatchObject({ nexttry: now + 100 });
  });

  it('runs a leased duty on one holder only, and hands it over when released', async () => {
    const meta = await store();
    const now = 500;
    const passes: string[] = [];
    const worker = (name: string) => ({
      async runOnce() {
        passes.push(name);
        return { swept: 1 };
      },
    });
    const lease = (holder: string) =>
      new DutyLease({ meta, name: 'mgfs:tempfiles', holder, nowSeconds: () => now });
    const [a, b] = [lease('a'), lease('b')];
    const [onA, onB] = [new LeasedWorker(a, worker('a')), new LeasedWorker(b, worker('b'))];
    expect(await onA.runOnce()).toEqual({ swept: 1 });
    expect(await onB.runOnce()).toEqual({});
    await a.release();
    expect(await onB.runOnce()).toEqual({ swept: 1 });
    expect(await onA.runOnce()).toEqual({});
    expect(passes).toEqual(['a', 'b']);
  });
});
