import { readdirSync } from 'node:fs';
import { setTimeout as delay } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { openMetaStore } from '../../src/meta/index.js';
import { CLAIM_LEASE_SECONDS } from '../../src/meta/queue-claims.js';
import { backends } from '../helpers/meta-backends.js';
import { TrackerConnection } from '../helpers/tracker-connection.js';
import {
  type MultiTrackerCluster,
  startMultiTrackerCluster,
  storeOn,
} from './multi-tracker-cluster.js';
import { overlappingAttempts, readReplicationLog } from './replication-log.js';

/**
 * Three trackers on one PostgreSQL or MariaDB database (architecture.md §6): files stored
 * through all three reach their copy count on distinct hosts; no fid is ever replicated by
 * two trackers at once (checked on every tracker's attempt log); one tracker is killed
 * with SIGKILL halfway through and the others finish the work it had claimed once its
 * leases run out. `MOGILE_CLUSTER_FILES` lowers the file count on slow machines.
 */
const FILES = Number(process.env['MOGILE_CLUSTER_FILES'] ?? 2000);
const LANES = 12;
const VICTIM = 2;

for (const backend of backends().filter((b) => b.name !== 'sqlite')) {
  describe(`three trackers on one ${backend.name} database`, () => {
    it(`replicates ${FILES} files without copying a fid twice at once, surviving a SIGKILL`, async () => {
      const cluster = await startMultiTrackerCluster(backend, { trackers: 3, nodes: 3 });
      try {
        await runScenario(cluster);
      } finally {
        await cluster.stop();
      }
    }, 300_000);
  });
}

async function runScenario(cluster: MultiTrackerCluster): Promise<void> {
  const startedMs = Date.now();
  const tag = `${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
  const victim = cluster.trackers[VICTIM]!;
  let killedAtMs: number | undefined;
  let stored = 0;
  let retries = 0;
  const retryReasons = new Map<string, number>();
  const fidOf = new Map<string, number>();
  const lanes = await Promise.all(
    Array.from({ length: LANES }, () =>
      Promise.all(cluster.trackers.map((tracker) => TrackerConnection.open(tracker.port))),
    ),
  );
  // Halfway through, the victim dies right after it claimed a batch: its claims are
  // orphaned for sure (or after 3 s anyway, should it claim nothing).
  let halfway = false;
  const kill = () => {
    if (killedAtMs !== undefined) return;
    killedAtMs = Date.now();
    victim.child.kill('SIGKILL');
  };
  victim.child.stderr!.on('data', (chunk: string) => {
    if (halfway && chunk.includes('"msg":"replication claimed"')) kill();
  });
  let next = 0;
  const lane = async (connections: TrackerConnection[]) => {
    while (next < FILES) {
      const i = next++;
      const key = `f${i}-${tag}`;
      // Spread over the trackers; once the victim is dead, over the other two.
      let index = i % 3;
      for (let attempt = 1; ; attempt++) {
        if (killedAtMs !== undefined && index === VICTIM) index = i % 2;
        try {
          fidOf.set(key, await storeOn(connections[index]!, key, `body ${i}`));
          break;
        } catch (error) {
          // Requests cut off by the kill are retried elsewhere. An overloaded tracker
          // closes a connection whose reply would be stale (stale_reply_after); like a
          // MogileFS client, the lane reconnects and stores the key again.
          if (attempt === 5) throw error;
          retries += 1;
          const reason = (error as Error).message.replace(/^.*-> /s, '').slice(0, 60);
          retryReasons.set(reason, (retryReasons.get(reason) ?? 0) + 1);
          connections[index]!.close();
          if (index !== VICTIM || killedAtMs === undefined) {
            connections[index] = await TrackerConnection.open(cluster.trackers[index]!.port);
          }
        }
      }
      stored += 1;
      if (stored === FILES / 2) {
        halfway = true;
        setTimeout(kill, 3000);
      }
    }
  };
  await Promise.all(lanes.map(lane));
  for (const connections of lanes) for (const connection of connections) connection.close();
  await victim.exited;
  const storedMs = Date.now();

  // Every file reaches 2 copies and the replication queue drains.
  const meta = await openMetaStore(cluster.url);
  try {
    const deadline = Date.now() + 60_000;
    for (;;) {
      const counts = await meta.copyCounts();
      const depth = (await meta.queueDepths(Math.floor(Date.now() / 1000))).replicate;
      const atTwo = counts.filter((c) => c.devcount === 2).reduce((n, c) => n + c.files, 0);
      const queued = depth.new + depth.overdue + depth.deferred + depth.manual;
      if (atTwo === FILES && queued === 0) break;
      if (Date.now() > deadline) {
        throw new Error(`stuck: ${atTwo}/${FILES} files at 2 copies, ${queued} queued`);
      }
      await delay(250);
    }
    const replicatedMs = Date.now();
    console.log(
      `stored ${((storedMs - startedMs) / 1000).toFixed(1)} s, replicated ` +
        `${((replicatedMs - startedMs) / 1000).toFixed(1)} s, killed at ` +
        `${((killedAtMs! - startedMs) / 1000).toFixed(1)} s`,
    );
    for (const fid of fidOf.values()) {
      const devids = await meta.fileDevids(fid);
      expect(devids).toHaveLength(2);
      expect(new Set(devids.map((devid) => cluster.hostOf.get(devid))).size).toBe(2);
    }

    // No fid was worked on by two trackers at once, and the victim's claims were taken over.
    const logs = cluster.trackers.map((tracker, index) =>
      readReplicationLog(tracker.stderr(), index, index === VICTIM ? killedAtMs : undefined),
    );
    const attempts = logs.flatMap((log) => log.attempts);
    expect(overlappingAttempts(attempts)).toEqual([]);
    const orphaned = logs[VICTIM]!.unfinishedClaims;
    const killedMidCopy = attempts.filter((attempt) => attempt.result === 'killed').length;
    const takeovers = attempts.filter(
      (attempt) =>
        attempt.tracker !== VICTIM && orphaned.has(attempt.fid) && attempt.startMs > killedAtMs!,
    );
    const takeoverMs = Math.max(0, ...takeovers.map((attempt) => attempt.endMs - killedAtMs!));
    // Storage side: every file has exactly its 2 copies on disk.
    const onDisk = fidFilesOnDisk(cluster.nodes.map((node) => node.docroot));
    const extraCopies = [...fidOf.values()].filter((fid) => (onDisk.get(fid) ?? 0) !== 2);
    console.log(
      `${FILES} files on 3 trackers: stored in ${((storedMs - startedMs) / 1000).toFixed(1)} s, ` +
        `all at 2 copies ${((replicatedMs - startedMs) / 1000).toFixed(1)} s after the start; ` +
        `${attempts.length} attempts, ${orphaned.size} claims orphaned by the kill ` +
        `(${killedMidCopy} mid-copy), taken over within ${(takeoverMs / 1000).toFixed(1)} s; ` +
        `${extraCopies.length} files with a stray copy on disk; ${retries} stores retried`,
    );
    if (retries > 0) console.log('retried after:', Object.fromEntries(retryReasons));
    expect(orphaned.size).toBeGreaterThan(0);
    expect(takeoverMs).toBeLessThan((CLAIM_LEASE_SECONDS + 10) * 1000);
    // A stray third copy is explained only by a claim of the victim that the kill cut short
    // (its last log lines may be lost with it, so any orphaned claim may have been copying).
    for (const fid of extraCopies) {
      expect({ fid, copies: onDisk.get(fid), orphaned: orphaned.has(fid) }).toEqual({
        fid,
        copies: 3,
        orphaned: true,
      });
    }
  } finally {
    await meta.close();
    if (process.env['MOGILE_CLUSTER_LOGS']) {
      const { writeFileSync } = await import('node:fs');
      for (const [index, tracker] of cluster.trackers.entries()) {
        writeFileSync(
          `${process.env['MOGILE_CLUSTER_LOGS']}/tracker${index}.log`,
          tracker.stderr(),
        );
      }
    }
  }
}

/** fid → how many `.fid` files hold it across the docroots. */
function fidFilesOnDisk(docroots: readonly string[]): Map<number, number> {
  const counts = new Map<number, number>();
  for (const docroot of docroots) {
    for (const entry of readdirSync(docroot, { recursive: true, withFileTypes: true })) {
      const match = /^(\d{10})\.fid$/.exec(entry.name);
      if (!entry.isFile() || !match || entry.parentPath.includes('test-write')) continue;
      const fid = Number(match[1]);
      counts.set(fid, (counts.get(fid) ?? 0) + 1);
    }
  }
  return counts;
}
