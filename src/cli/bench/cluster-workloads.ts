import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { setTimeout as delay } from 'node:timers/promises';
import type { MogileAdmin } from '../../client/mogile-admin.js';
import type { MogileClient } from '../../client/mogile-client.js';
import type { WorkloadGroup, WorkloadResult } from './bench-plan.js';
import { runOps, type Throughput } from './latency.js';
import { memoryMB, treeCpuSeconds } from './process-probe.js';
import { drain } from './raw-workloads.js';

export interface ClusterTarget {
  readonly client: MogileClient;
  readonly admin: MogileAdmin;
  readonly className: string;
  /** The copies every file must reach (the class's mindevcount). */
  readonly copies: number;
  /** Set when the tracker runs on this machine: its CPU is measured. */
  readonly trackerPid?: number | undefined;
  /** Keys start with this, so runs against a shared tracker never collide. */
  readonly keyPrefix: string;
  readonly replicationDeadlineMs: number;
  /** Runs after each group's stores have their copies, before the group is read. */
  readonly afterStores?: (() => Promise<void>) | undefined;
}

const LIST_FIDS_PAGE = 500;
const STREAMING_GET_BYTES = 16 * 1024 * 1024;

/**
 * store (then the wait for every copy), get, get_paths and delete of one group's files
 * through MogileClient, the way an application sees the cluster. With `keep`, the files
 * stay (no delete figure) until `deleteGroupFiles`.
 */
export async function measureClusterGroup(
  target: ClusterTarget,
  group: WorkloadGroup,
  body: Buffer,
  { keep = false }: { keep?: boolean } = {},
): Promise<WorkloadResult[]> {
  const key = groupKeys(target, group);
  const shape = { sizeBytes: group.sizeBytes, concurrency: group.concurrency };
  const fids: number[] = [];
  const results: WorkloadResult[] = [];

  const store = await probed(target, () =>
    runOps(group.files, group.concurrency, group.sizeBytes, async (index) => {
      const stored = await target.client.store(key(index), body, { class: target.className });
      fids.push(stored.fid);
    }),
  );
  const replicationLagSeconds = await waitForCopies(target, fids);
  results.push({ operation: 'store', ...shape, ...store, replicationLagSeconds });
  await target.afterStores?.();

  const get = await probed(target, () =>
    runOps(group.files, group.concurrency, group.sizeBytes, async (index) => {
      const received =
        group.sizeBytes >= STREAMING_GET_BYTES
          ? await drain(await target.client.get(key(index), { as: 'stream' }))
          : (await target.client.get(key(index))).length;
      if (received !== body.length) throw new Error(`get ${key(index)}: ${received} bytes`);
    }),
  );
  results.push({ operation: 'get', ...shape, ...get });

  if (group.getPathsOps > 0) {
    const paths = await probed(target, () =>
      runOps(group.getPathsOps, group.concurrency, 0, async (index) => {
        const found = await target.client.getPaths(key(index % group.files));
        if (found.length === 0) throw new Error(`get_paths ${key(index)}: no paths`);
      }),
    );
    results.push({ operation: 'get_paths', ...shape, ...paths });
  }

  if (!keep) {
    const remove = await probed(target, () => deleteGroupFiles(target, group));
    results.push({ operation: 'delete', ...shape, ...remove });
  }
  return results;
}

/** Deletes the files `measureClusterGroup` stored for `group`. */
export function deleteGroupFiles(target: ClusterTarget, group: WorkloadGroup): Promise<Throughput> {
  const key = groupKeys(target, group);
  return runOps(group.files, group.concurrency, 0, (index) => target.client.delete(key(index)));
}

function groupKeys(target: ClusterTarget, group: WorkloadGroup): (index: number) => string {
  const tag = `${target.keyPrefix}${group.sizeBytes}-c${group.concurrency}-`;
  return (index) => `${tag}${index}`;
}

/** Runs a workload and adds the tracker's CPU seconds per 1,000 operations to its figures. */
async function probed(
  target: ClusterTarget,
  work: () => Promise<Throughput>,
): Promise<Throughput & { trackerCpuSecondsPer1000Ops?: number }> {
  const pid = target.trackerPid;
  const before = pid === undefined ? 0 : treeCpuSeconds(pid);
  const result = await work();
  if (pid === undefined) return result;
  return {
    ...result,
    trackerCpuSecondsPer1000Ops: ((treeCpuSeconds(pid) - before) / result.ops) * 1000,
  };
}

/**
 * Seconds until every fid has `copies` copies, by `list_fids` pages (500 fids a request,
 * so polling barely loads the tracker); null when the deadline passes first.
 */
async function waitForCopies(
  target: ClusterTarget,
  fids: readonly number[],
): Promise<number | null> {
  const started = performance.now();
  const pending = new Set(fids);
  while (pending.size > 0) {
    if (performance.now() - started > target.replicationDeadlineMs) return null;
    const highest = Math.max(...pending);
    let after = Math.min(...pending) - 1;
    while (after < highest) {
      const page = await target.admin.listFids(after, LIST_FIDS_PAGE);
      if (page.length === 0) break;
      for (const file of page) {
        if (file.devcount >= target.copies) pending.delete(file.fid);
      }
      after = page[page.length - 1]!.fid;
    }
    if (pending.size > 0) await delay(20);
  }
  return (performance.now() - started) / 1000;
}

/**
 * Streams one large file in and out while sampling every storage node's RSS: the node
 * must not buffer a file, so its RSS should stay where it was.
 */
export async function measureStream(
  target: ClusterTarget,
  nodePids: readonly number[],
  sizeBytes: number,
): Promise<{ storeMBPerSec: number; getMBPerSec: number; nodeRssGrowthMB: number }> {
  const baseline = nodePids.map((pid) => memoryMB(pid).rssMB);
  const peaks = [...baseline];
  const sampler = setInterval(() => {
    for (const [i, pid] of nodePids.entries()) {
      peaks[i] = Math.max(peaks[i]!, memoryMB(pid).rssMB);
    }
  }, 50);
  const chunk = randomBytes(1024 * 1024);
  const key = `${target.keyPrefix}stream`;
  try {
    const storeStarted = performance.now();
    const source = Readable.from(
      (function* () {
        for (let sent = 0; sent < sizeBytes; sent += chunk.length) yield chunk;
      })(),
    );
    await target.client.store(key, source, { class: target.className, sizeBytes });
    const storeSeconds = (performance.now() - storeStarted) / 1000;
    const getStarted = performance.now();
    const received = await drain(await target.client.get(key, { as: 'stream' }));
    const getSeconds = (performance.now() - getStarted) / 1000;
    if (received !== sizeBytes) throw new Error(`stream get: ${received} bytes`);
    await target.client.delete(key);
    return {
      storeMBPerSec: sizeBytes / 1e6 / storeSeconds,
      getMBPerSec: sizeBytes / 1e6 / getSeconds,
      nodeRssGrowthMB: Math.max(...peaks.map((peak, i) => peak - baseline[i]!)),
    };
  } finally {
    clearInterval(sampler);
  }
}
