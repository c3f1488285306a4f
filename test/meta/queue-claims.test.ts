import { afterEach, describe, expect, it } from 'vitest';
import { type MetaStore, openMetaStore } from '../../src/meta/index.js';
import { CLAIM_LEASE_SECONDS, mysqlHasSkipLocked } from '../../src/meta/queue-claims.js';
import { backends } from '../helpers/meta-backends.js';

/** Leased queue claims and duty leases (architecture.md §6), on every engine. */
for (const backend of backends()) {
  describe(`queue claims and duty leases on ${backend.name}`, () => {
    const cleanups: (() => Promise<void>)[] = [];
    afterEach(async () => {
      for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
    });

    /** Two stores on one database: two trackers. */
    async function twoTrackers(): Promise<[MetaStore, MetaStore]> {
      const database = await backend.freshDatabase();
      cleanups.push(database.drop);
      const first = await openMetaStore(database.url);
      cleanups.push(() => first.close());
      const second = await openMetaStore(database.url);
      cleanups.push(() => second.close());
      return [first, second];
    }

    it('gives each due row to one claimer at a time, even when they claim at once', async () => {
      const [a, b] = await twoTrackers();
      for (let fid = 1; fid <= 60; fid++) await a.queueReplication(fid, 0);
      // SQLite is one tracker's file (single writer): two connections of one process would
      // only report "database is locked", so there the claims run one after the other.
      const [first, second] =
        backend.name === 'sqlite'
          ? [await a.claimReplicationTasks(100, 40), await b.claimReplicationTasks(100, 40)]
          : await Promise.all([a.claimReplicationTasks(100, 40), b.claimReplicationTasks(100, 40)]);
      const fids = [...first, ...second].map((task) => task.fid);
      expect(new Set(fids).size).toBe(fids.length);
      expect(fids.length).toBe(60);
      expect([...first, ...second].every((task) => task.lease === 100 + CLAIM_LEASE_SECONDS)).toBe(
        true,
      );
      // Nothing is due again until the lease runs out; then everything is.
      expect(await b.claimReplicationTasks(100 + CLAIM_LEASE_SECONDS - 1, 100)).toEqual([]);
      expect(await b.claimReplicationTasks(100 + CLAIM_LEASE_SECONDS, 100)).toHaveLength(60);
    });

    it('settles a row only while the claim that wrote its token holds it', async () => {
      const [a, b] = await twoTrackers();
      await a.queueReplication(7, 0);
      const [mine] = await a.claimReplicationTasks(100, 10);
      // a stalls past its lease; b takes the row over.
      const [theirs] = await b.claimReplicationTasks(100 + CLAIM_LEASE_SECONDS, 10);
      expect(theirs!.lease).toBeGreaterThan(mine!.lease);
      expect(await a.renewClaims({ table: 'file_to_replicate' }, [7], mine!.lease, 200)).toEqual(
        [],
      );
      await a.finishQueueRow('file_to_replicate', 7, mine!.lease);
      await a.deferQueueRow('file_to_replicate', 7, 999, 3, mine!.lease);
      expect((await a.fidQueues(7)).replicate).toMatchObject({ nexttry: theirs!.lease });
      // The holder renews, then finishes with its current token.
      const renewed = theirs!.lease + 5;
      expect(
        await b.renewClaims({ table: 'file_to_replicate' }, [7], theirs!.lease, renewed),
      ).toEqual([7]);
      await b.finishQueueRow('file_to_replicate', 7, renewed);
      expect((await a.fidQueues(7)).replicate).toBeUndefined();
    });

    it('keeps replicate_now off claimed rows', async () => {
      const [a] = await twoTrackers();
      await a.queueReplication(1, 0);
      await a.queueReplication(2, 0);
      const [claimed] = await a.claimReplicationTasks(100, 1);
      await a.deferQueueRow('file_to_replicate', 2, 5000, 1);
      expect(await a.replicateNow(101)).toBe(1);
      expect((await a.fidQueues(claimed!.fid)).replicate).toMatchObject({
        nexttry: claimed!.lease,
      });
      expect((await a.fidQueues(2)).replicate).toMatchObject({ nexttry: 101 });
    });

    it('leases claims of the generic queue per type', async () => {
      const [a, b] = await twoTrackers();
      await a.enqueueRebalanceItems([{ fid: 3, devid: 1, destinations: '2' }], 100);
      const [task] = await a.claimGenericQueueTasks(2, 100, 10);
      expect(await b.claimGenericQueueTasks(2, 101, 10)).toEqual([]);
      await b.finishGenericQueueTask(2, 3, task!.lease + 1);
      expect(await a.genericQueueLength(2)).toBe(1);
      await a.finishGenericQueueTask(2, 3, task!.lease);
      expect(await a.genericQueueLength(2)).toBe(0);
    });

    it('holds a duty lease for one tracker until it lapses or is released', async () => {
      const [a, b] = await twoTrackers();
      expect(await a.acquireLease('mgfs:reaper', 'tracker-a', 100, 10)).toBe(true);
      expect(await b.acquireLease('mgfs:reaper', 'tracker-b', 105, 10)).toBe(false);
      // Renewing in the same second still counts as holding.
      expect(await a.acquireLease('mgfs:reaper', 'tracker-a', 105, 10)).toBe(true);
      expect(await a.acquireLease('mgfs:reaper', 'tracker-a', 105, 10)).toBe(true);
      expect(await b.acquireLease('mgfs:reaper', 'tracker-b', 114, 10)).toBe(false);
      // a stopped renewing: b takes over once it expired.
      expect(await b.acquireLease('mgfs:reaper', 'tracker-b', 115, 10)).toBe(true);
      expect(await a.acquireLease('mgfs:reaper', 'tracker-a', 116, 10)).toBe(false);
      await b.releaseLease('mgfs:reaper', 'tracker-b');
      expect(await a.acquireLease('mgfs:reaper', 'tracker-a', 117, 10)).toBe(true);
      expect(await a.listLeases()).toEqual([
        { name: 'mgfs:reaper', holder: 'tracker-a', expiresAt: 127 },
      ]);
    });

    it('lets exactly one of several trackers take a free lease at once', async () => {
      const [a, b] = await twoTrackers();
      const attempts = [
        () => a.acquireLease('mgfs:tempfiles', 'a1', 100, 10),
        () => b.acquireLease('mgfs:tempfiles', 'b1', 100, 10),
        () => a.acquireLease('mgfs:tempfiles', 'a2', 100, 10),
        () => b.acquireLease('mgfs:tempfiles', 'b2', 100, 10),
      ];
      const results: boolean[] = [];
      // One after the other on SQLite (see above); at once on the server engines.
      if (backend.name === 'sqlite') for (const attempt of attempts) results.push(await attempt());
      else results.push(...(await Promise.all(attempts.map((attempt) => attempt()))));
      expect(results.filter(Boolean)).toHaveLength(1);
    });
  });
}

describe('SKIP LOCKED support', () => {
  it('is known by server version: MySQL from 8.0.1, MariaDB from 10.6', () => {
    expect(mysqlHasSkipLocked('8.0.36')).toBe(true);
    expect(mysqlHasSkipLocked('8.0.0-dmr')).toBe(false);
    expect(mysqlHasSkipLocked('5.7.44-log')).toBe(false);
    expect(mysqlHasSkipLocked('10.11.6-MariaDB-0+deb12u1')).toBe(true);
    expect(mysqlHasSkipLocked('10.5.23-MariaDB')).toBe(false);
  });
});
