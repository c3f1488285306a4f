import { afterEach, describe, expect, it } from 'vitest';
import { type MetaStore, openMetaStore } from '../../src/meta/index.js';
import { CLAIM_LEASE_SECONDS } from '../../src/meta/queue-claims.js';
import { backends } from '../helpers/meta-backends.js';

/** The store queries behind fsck and rebalance, on every engine (no mocks). */
for (const backend of backends()) {
  describe(`fsck and rebalance queries on ${backend.name}`, () => {
    const cleanups: (() => Promise<void>)[] = [];
    afterEach(async () => {
      for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
    });

    async function storeWithFiles(): Promise<{ store: MetaStore; fids: number[]; dmid: number }> {
      const database = await backend.freshDatabase();
      cleanups.push(database.drop);
      const store = await openMetaStore(database.url);
      cleanups.push(() => store.close());
      const { dmid } = await store.createDomain('d');
      const other = await store.createDomain('e');
      const fids: number[] = [];
      for (const [i, key] of ['a/1', 'a/2', 'A/3', 'b/4', 'a_5'].entries()) {
        const domain = i === 4 ? other.dmid : dmid;
        const fid = await store.reserveTempfile({
          dmid: domain,
          classid: 0,
          key,
          devids: [1],
          createdSeconds: 1,
        });
        await store.commitFile({
          fid,
          dmid: domain,
          key,
          classid: 0,
          lengthBytes: 10 * (i + 1),
          devid: i % 2 === 0 ? 1 : 2,
          nowSeconds: 1,
        });
        fids.push(fid);
      }
      return { store, fids, dmid };
    }

    it('queues fsck batches in fid order, narrowed by targets', async () => {
      const { store, fids, dmid } = await storeWithFiles();
      const end = Math.max(...fids);
      const batch = (afterFid: number, targets = {}) =>
        store.enqueueFsckBatch({ afterFid, endFid: end, limit: 2, targets, nowSeconds: 5 });
      expect(await batch(0)).toEqual({ queued: 2, lastFid: fids[1] });
      expect(await batch(fids[1]!)).toEqual({ queued: 2, lastFid: fids[3] });
      expect(await batch(fids[3]!)).toEqual({ queued: 1, lastFid: fids[4] });
      expect(await batch(fids[4]!)).toEqual({ queued: 0, lastFid: undefined });
      expect(await store.genericQueueLength(1)).toBe(5);
      const claimed = await store.claimGenericQueueTasks(1, 5, 10);
      expect(claimed.map((task) => task.fid)).toEqual(fids);
      // Leased: nobody else gets them until the short lease runs out (queue-claims.ts).
      expect(await store.claimGenericQueueTasks(1, 6, 10)).toEqual([]);
      expect(claimed.every((task) => task.lease === 5 + CLAIM_LEASE_SECONDS)).toBe(true);
      for (const fid of fids) await store.finishGenericQueueTask(1, fid);

      // Prefixes match byte for byte: no case folding, `_` is no wildcard.
      const prefixed = await store.enqueueFsckBatch({
        afterFid: 0,
        endFid: end,
        limit: 10,
        targets: { dmid, keyPrefix: 'a/' },
        nowSeconds: 5,
      });
      expect(prefixed).toEqual({ queued: 2, lastFid: fids[1] });
      for (const { fid } of await store.claimGenericQueueTasks(1, 5, 10)) {
        await store.finishGenericQueueTask(1, fid);
      }
      const onDevice = await store.enqueueFsckBatch({
        afterFid: 0,
        endFid: end,
        limit: 10,
        targets: { devid: 2 },
        nowSeconds: 5,
      });
      expect(onDevice).toEqual({ queued: 2, lastFid: fids[3] });
    });

    it('logs events, pages the log and folds it into counters once', async () => {
      const { store } = await storeWithFiles();
      await store.appendFsckLog({ utimeSeconds: 9, fid: 1, evcode: 'MISS', devid: 2 });
      await store.appendFsckLog({ utimeSeconds: 9, fid: 1, evcode: 'REPL' });
      await store.appendFsckLog({ utimeSeconds: 9, fid: 2, evcode: 'MISS', devid: 1 });
      const rows = await store.fsckLogAfter(0, 100);
      expect(rows.map((row) => [row.evcode, row.devid])).toEqual([
        ['MISS', 2],
        ['REPL', null],
        ['MISS', 1],
      ]);
      expect(await store.fsckLogAfter(rows[1]!.logid, 100)).toHaveLength(1);
      expect(await store.maxFsckLogid()).toBe(rows[2]!.logid);
      await store.summarizeFsckLog();
      await store.summarizeFsckLog();
      expect(await store.getSetting('fsck_sum_evcount_MISS')).toBe('2');
      expect(await store.getSetting('fsck_sum_evcount_REPL')).toBe('1');
      await store.clearFsckLog();
      expect(await store.fsckLogAfter(0, 100)).toEqual([]);
    });

    it("fixes devcount and lists a device's fids for rebalance", async () => {
      const { store, fids } = await storeWithFiles();
      const oldest = await store.deviceFids(1, 0, false, 2);
      expect(oldest).toEqual([
        { fid: fids[0], lengthBytes: 10 },
        { fid: fids[2], lengthBytes: 30 },
      ]);
      const newest = await store.deviceFids(1, 0, true, 10);
      expect(newest.map((row) => row.fid)).toEqual([fids[4], fids[2], fids[0]]);
      await store.enqueueRebalanceItems([{ fid: fids[0]!, devid: 1, destinations: '2,3' }], 5);
      expect(await store.claimGenericQueueTasks(2, 5, 10)).toEqual([
        { fid: fids[0], devid: 1, arg: '2,3', failcount: 0, lease: 5 + CLAIM_LEASE_SECONDS },
      ]);
      expect(await store.refreshFileDevcount(fids[0]!)).toBe(false);
      await store.dropCopyRow(fids[0]!, 1);
      expect(await store.refreshFileDevcount(fids[0]!)).toBe(true);
      expect((await store.findFileByFid(fids[0]!))?.devcount).toBe(0);
    });
  });
}
