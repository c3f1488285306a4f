import type { Throughput } from './latency.js';

export const KIB = 1024;
export const MIB = 1024 * KIB;

/** One cell of the matrix: `files` files of `sizeBytes` at `concurrency`. */
export interface WorkloadGroup {
  readonly sizeBytes: number;
  readonly concurrency: number;
  readonly files: number;
  /** `get_paths` requests to send over this group's keys (0: none). */
  readonly getPathsOps: number;
}

export interface BenchPlan {
  /**
   * Stored, copied, read and looked up before the measured groups, on the raw server and
   * the cluster alike, and not reported: the figures are then of warm processes (a fresh
   * tracker or node spends its first thousand or so stores compiling its hot code, at two
   * to three times the CPU per store of later ones). The files are deleted at the end.
   */
  readonly warmup: WorkloadGroup;
  readonly groups: readonly WorkloadGroup[];
  /** Bytes of the file streamed to watch the storage nodes' RSS (0: skipped). */
  readonly streamBytes: number;
  /** Longest wait for a group's files to reach their copies. */
  readonly replicationDeadlineMs: number;
}

/**
 * The full matrix keeps the run to minutes on a 2-core machine: 4 KiB at 1, 8 and 32, 1 MiB
 * at 8, 64 MiB at 1. The 4 KiB c=8 group has 5,000 files, the replication target's size;
 * the 64 MiB group has 8, as 4 left its figures swinging by a factor of two between runs.
 */
export const FULL_PLAN: BenchPlan = Object.freeze({
  warmup: { sizeBytes: 4 * KIB, concurrency: 8, files: 2000, getPathsOps: 4000 },
  groups: [
    { sizeBytes: 4 * KIB, concurrency: 1, files: 300, getPathsOps: 0 },
    { sizeBytes: 4 * KIB, concurrency: 8, files: 5000, getPathsOps: 20_000 },
    { sizeBytes: 4 * KIB, concurrency: 32, files: 3000, getPathsOps: 20_000 },
    { sizeBytes: MIB, concurrency: 8, files: 200, getPathsOps: 0 },
    { sizeBytes: 64 * MIB, concurrency: 1, files: 8, getPathsOps: 0 },
  ],
  streamBytes: 1024 * MIB,
  replicationDeadlineMs: 300_000,
});

/** Every figure once, in seconds: for a smoke test, not for numbers. */
export const QUICK_PLAN: BenchPlan = Object.freeze({
  warmup: { sizeBytes: 4 * KIB, concurrency: 8, files: 20, getPathsOps: 40 },
  groups: [
    { sizeBytes: 4 * KIB, concurrency: 1, files: 20, getPathsOps: 0 },
    { sizeBytes: 4 * KIB, concurrency: 8, files: 200, getPathsOps: 500 },
    { sizeBytes: MIB, concurrency: 8, files: 16, getPathsOps: 0 },
    { sizeBytes: 64 * MIB, concurrency: 1, files: 1, getPathsOps: 0 },
  ],
  streamBytes: 0,
  replicationDeadlineMs: 60_000,
});

export type Operation = 'store' | 'get' | 'get_paths' | 'delete' | 'raw_put' | 'raw_get';

export interface WorkloadResult extends Throughput {
  readonly operation: Operation;
  readonly sizeBytes: number;
  readonly concurrency: number;
  /** Tracker CPU (user + system) per 1,000 operations; only for a local tracker. */
  readonly trackerCpuSecondsPer1000Ops?: number | undefined;
  /** store only: seconds from the last store until every file had its copies; null: deadline. */
  readonly replicationLagSeconds?: number | null | undefined;
  /** ops/s (and so MB/s) as a fraction of the raw server's for the same size and concurrency. */
  readonly rawRatio?: number | undefined;
  /** p99 latency as a multiple of the raw server's. */
  readonly rawP99Ratio?: number | undefined;
}

export interface StreamResult {
  readonly sizeBytes: number;
  readonly storeMBPerSec: number;
  readonly getMBPerSec: number;
  /** Largest RSS growth of any storage node over its RSS just before the stream, in MB. */
  readonly nodeRssGrowthMB: number;
}

export function workloadLabel(result: {
  operation: Operation;
  sizeBytes: number;
  concurrency: number;
}): string {
  return `${result.operation} ${formatSize(result.sizeBytes)} c=${result.concurrency}`;
}

export function formatSize(bytes: number): string {
  if (bytes >= MIB && bytes % MIB === 0) return `${bytes / MIB} MiB`;
  if (bytes >= KIB && bytes % KIB === 0) return `${bytes / KIB} KiB`;
  return `${bytes} B`;
}
