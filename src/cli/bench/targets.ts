import { KIB, MIB, type Operation, type StreamResult, type WorkloadResult } from './bench-plan.js';
import type { ProcessPeak } from './process-probe.js';

export type Verdict = 'PASS' | 'MISS' | 'n/a';

export interface TargetCheck {
  readonly name: string;
  /** e.g. `>= 75% of raw PUT/s`. */
  readonly target: string;
  /** The measured figure as printed, or why there is none. */
  readonly measured: string;
  readonly verdict: Verdict;
}

interface Figures {
  readonly workloads: readonly WorkloadResult[];
  readonly processes: readonly ProcessPeak[];
  readonly stream: StreamResult | undefined;
}

const REPLICATION_TARGET_FILES = 5000;

/** Issue 8's targets, each judged on the figures of this run. */
export function checkTargets(figures: Figures): TargetCheck[] {
  const find = (operation: Operation, sizeBytes: number, concurrency: number) =>
    figures.workloads.find(
      (w) =>
        w.operation === operation && w.sizeBytes === sizeBytes && w.concurrency === concurrency,
    );
  const ratio = (name: string, target: number, workload: WorkloadResult | undefined) =>
    atLeast(
      name,
      `>= ${target * 100}% of raw`,
      workload?.rawRatio,
      target,
      (value) => `${(value * 100).toFixed(0)}%`,
    );
  const getPaths = figures.workloads.filter((w) => w.operation === 'get_paths');
  const bestGetPaths = getPaths.length ? Math.max(...getPaths.map((w) => w.opsPerSec)) : undefined;
  const smallStore = find('store', 4 * KIB, 8);
  const tracker = figures.processes.find((p) => p.role === 'tracker');
  return [
    ratio('store 4 KiB c=8, ops/s', 0.75, smallStore),
    ratio('get 4 KiB c=8, ops/s', 0.7, find('get', 4 * KIB, 8)),
    atLeast('get_paths replies/s', '>= 20000/s', bestGetPaths, 20_000, (v) => `${v.toFixed(0)}/s`),
    ratio('store 64 MiB c=1, MB/s', 0.95, find('store', 64 * MIB, 1)),
    ratio('get 64 MiB c=1, MB/s', 0.95, find('get', 64 * MIB, 1)),
    replicationCheck(smallStore),
    atMost('tracker peak RSS', '< 150 MB', tracker?.peakRssMB, 150, (v) => `${v.toFixed(0)} MB`),
    atMost(
      'storage RSS growth, 1 GiB stream',
      '< 50 MB (flat)',
      figures.stream?.nodeRssGrowthMB,
      50,
      (v) => `+${v.toFixed(0)} MB`,
    ),
  ];
}

function replicationCheck(store: WorkloadResult | undefined): TargetCheck {
  const name = `replication ${REPLICATION_TARGET_FILES} x 4 KiB to 2 copies`;
  const target = '< 4 s after the stores';
  if (store?.replicationLagSeconds === null) {
    return { name, target, measured: 'deadline passed', verdict: 'MISS' };
  }
  const check = atMost(name, target, store?.replicationLagSeconds, 4, (v) => `${v.toFixed(2)} s`);
  if (store && store.ops < REPLICATION_TARGET_FILES && check.verdict !== 'n/a') {
    return { ...check, measured: `${check.measured} (${store.ops} files)`, verdict: 'n/a' };
  }
  return check;
}

function atLeast(
  name: string,
  target: string,
  value: number | undefined,
  limit: number,
  format: (value: number) => string,
): TargetCheck {
  if (value === undefined) return { name, target, measured: 'not measured', verdict: 'n/a' };
  return { name, target, measured: format(value), verdict: value >= limit ? 'PASS' : 'MISS' };
}

function atMost(
  name: string,
  target: string,
  value: number | undefined,
  limit: number,
  format: (value: number) => string,
): TargetCheck {
  if (value === undefined) return { name, target, measured: 'not measured', verdict: 'n/a' };
  return { name, target, measured: format(value), verdict: value < limit ? 'PASS' : 'MISS' };
}
