import { randomBytes } from 'node:crypto';
import { cpus, loadavg } from 'node:os';
import { MogileAdmin } from '../../client/mogile-admin.js';
import { MogileClient } from '../../client/mogile-client.js';
import {
  type BenchPlan,
  FULL_PLAN,
  QUICK_PLAN,
  type StreamResult,
  type WorkloadResult,
  workloadLabel,
} from './bench-plan.js';
import {
  type ClusterTarget,
  deleteGroupFiles,
  measureClusterGroup,
  measureStream,
} from './cluster-workloads.js';
import { type LocalCluster, startLocalCluster } from './local-cluster.js';
import { refreshPlannerStatistics } from './planner-statistics.js';
import { type ProcessPeak, ProcessWatch } from './process-probe.js';
import { RawServer } from './raw-workloads.js';
import { checkTargets, type TargetCheck } from './targets.js';

export interface BenchOptions {
  /** Existing trackers (`host:port`); without them the bench starts its own cluster. */
  readonly trackers?: readonly string[] | undefined;
  /**
   * With `trackers`: the process id of a tracker on this machine, whose RSS and CPU (its
   * child processes' included) are then measured as the local cluster's tracker's are.
   */
  readonly trackerPid?: number | undefined;
  readonly domain?: string | undefined;
  readonly className?: string | undefined;
  /** The local cluster's database URL (default: a fresh SQLite file). */
  readonly db?: string | undefined;
  /** How the report names the local cluster's database. */
  readonly backendName?: string | undefined;
  readonly quick?: boolean | undefined;
  /** Files in the warm-up instead of the plan's (0: none). */
  readonly warmupFiles?: number | undefined;
  /** Progress lines (one per workload); default: none. */
  readonly progress?: ((line: string) => void) | undefined;
}

export interface BenchReport {
  readonly schema: 1;
  readonly startedAt: string;
  readonly finishedAt: string;
  readonly mode: 'local' | 'trackers';
  readonly backend: string;
  readonly trackers: readonly string[];
  readonly quick: boolean;
  /** The unreported files each server handled before the figures (BenchPlan.warmup). */
  readonly warmup: {
    readonly files: number;
    readonly sizeBytes: number;
    readonly concurrency: number;
  };
  readonly host: {
    readonly cpus: number;
    readonly node: string;
    readonly loadAverageStart: readonly number[];
    readonly loadAverageEnd: readonly number[];
  };
  readonly workloads: readonly WorkloadResult[];
  readonly stream: StreamResult | undefined;
  readonly processes: readonly ProcessPeak[];
  readonly targets: readonly TargetCheck[];
}

const LOCAL_DOMAIN = 'bench';
const LOCAL_CLASS = 'bench';
const LOCAL_NODES = 3;
const MINDEVCOUNT = 2;

/**
 * Runs the matrix. Locally (no trackers given) that is a tracker and three storage nodes
 * as separate processes plus the raw server, every figure as a ratio to the raw one, and
 * the CPU and RSS of each process; against given trackers, the client-side figures, and
 * the tracker's CPU and RSS when its process id is given.
 */
export async function runBench(options: BenchOptions = {}): Promise<BenchReport> {
  const plan = withWarmup(options.quick ? QUICK_PLAN : FULL_PLAN, options.warmupFiles);
  const startedAt = new Date().toISOString();
  const loadAverageStart = loadavg();
  const local = options.trackers === undefined || options.trackers.length === 0;
  const cluster = local
    ? await startLocalCluster({
        db: options.db,
        nodes: LOCAL_NODES,
        domain: LOCAL_DOMAIN,
        className: LOCAL_CLASS,
        mindevcount: MINDEVCOUNT,
      })
    : undefined;
  const trackers = cluster ? [cluster.trackerAddress] : [...options.trackers!];
  let raw: RawServer | undefined;
  try {
    raw = cluster ? await RawServer.start() : undefined;
    const measured = await measureAll(plan, options, cluster, raw, trackers);
    return {
      schema: 1,
      startedAt,
      finishedAt: new Date().toISOString(),
      mode: local ? 'local' : 'trackers',
      backend: local ? (options.backendName ?? (options.db ? 'custom' : 'sqlite')) : 'remote',
      trackers,
      quick: options.quick ?? false,
      warmup: {
        files: plan.warmup.files,
        sizeBytes: plan.warmup.sizeBytes,
        concurrency: plan.warmup.concurrency,
      },
      host: {
        cpus: cpus().length,
        node: process.version,
        loadAverageStart,
        loadAverageEnd: loadavg(),
      },
      ...measured,
      targets: checkTargets(measured),
    };
  } finally {
    await raw?.stop();
    await cluster?.stop();
  }
}

/** The plan with a warm-up of `files` files (each looked up twice), if given. */
function withWarmup(plan: BenchPlan, files: number | undefined): BenchPlan {
  if (files === undefined) return plan;
  return { ...plan, warmup: { ...plan.warmup, files, getPathsOps: 2 * files } };
}

async function measureAll(
  plan: BenchPlan,
  options: BenchOptions,
  cluster: LocalCluster | undefined,
  raw: RawServer | undefined,
  trackers: readonly string[],
) {
  const watched = cluster
    ? [cluster.tracker, ...cluster.nodes, ...(raw ? [raw.process] : [])]
    : options.trackerPid !== undefined
      ? [{ role: 'tracker', pid: options.trackerPid, startedBefore: true }]
      : [];
  const watch = watched.length > 0 ? new ProcessWatch(watched) : undefined;
  const domain = cluster ? LOCAL_DOMAIN : (options.domain ?? 'default');
  const className = cluster ? LOCAL_CLASS : (options.className ?? 'default');
  // As many idle tracker connections as workers, so c=32 never reconnects between requests.
  const client = new MogileClient({ trackers, domain, maxIdleConnections: 64 });
  const admin = new MogileAdmin({ trackers });
  const workloads: WorkloadResult[] = [];
  let stream: StreamResult | undefined;
  try {
    const target: ClusterTarget = {
      client,
      admin,
      className,
      copies: await classCopies(admin, domain, className),
      trackerPid: cluster?.tracker.pid ?? options.trackerPid,
      keyPrefix: `bench-${randomBytes(4).toString('hex')}-`,
      replicationDeadlineMs: plan.replicationDeadlineMs,
      afterStores: cluster ? () => refreshPlannerStatistics(options.db) : undefined,
    };
    const warmTarget: ClusterTarget = { ...target, keyPrefix: `${target.keyPrefix}warmup-` };
    if (plan.warmup.files > 0) {
      options.progress?.(`warm-up: ${plan.warmup.files} files, not reported`);
      const warmBody = randomBytes(plan.warmup.sizeBytes);
      if (raw) await raw.measure(plan.warmup, warmBody);
      await measureClusterGroup(warmTarget, plan.warmup, warmBody, { keep: true });
    }
    for (const group of plan.groups) {
      const body = randomBytes(group.sizeBytes);
      const rawResults = raw ? await raw.measure(group, body) : [];
      report(options, rawResults);
      const ours = await measureClusterGroup(target, group, body);
      const withRatios = ours.map((result) => {
        const baseline =
          result.operation === 'store'
            ? rawResults[0]
            : result.operation === 'get'
              ? rawResults[1]
              : undefined;
        return baseline
          ? {
              ...result,
              rawRatio: result.opsPerSec / baseline.opsPerSec,
              rawP99Ratio: result.p99Ms / baseline.p99Ms,
            }
          : result;
      });
      report(options, withRatios);
      workloads.push(...rawResults, ...withRatios);
    }
    if (cluster && plan.streamBytes > 0) {
      const pids = cluster.nodes.map((node) => node.pid);
      stream = {
        sizeBytes: plan.streamBytes,
        ...(await measureStream(target, pids, plan.streamBytes)),
      };
      options.progress?.(`stream: node RSS growth ${stream.nodeRssGrowthMB.toFixed(0)} MB`);
    }
    if (plan.warmup.files > 0) await deleteGroupFiles(warmTarget, plan.warmup);
  } finally {
    await client.close();
    await admin.close();
  }
  return { workloads, stream, processes: watch?.finish() ?? [] };
}

async function classCopies(admin: MogileAdmin, domain: string, className: string): Promise<number> {
  const domains = await admin.getDomains();
  const found = domains.find((d) => d.name === domain)?.classes.find((c) => c.name === className);
  // MogileFS's implicit `default` class may be left out of the list; its mindevcount is 2.
  if (!found && className === 'default') return MINDEVCOUNT;
  if (!found) throw new Error(`class ${className} of domain ${domain} does not exist`);
  return Math.max(1, found.mindevcount);
}

function report(options: BenchOptions, results: readonly WorkloadResult[]): void {
  for (const r of results) {
    options.progress?.(
      `${workloadLabel(r).padEnd(24)} ${r.opsPerSec.toFixed(0).padStart(7)} ops/s ` +
        `${r.mbPerSec.toFixed(1).padStart(7)} MB/s  p99 ${r.p99Ms.toFixed(1)} ms`,
    );
  }
}
