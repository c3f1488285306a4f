import { mbFree } from '../tracker/device-state.js';
import type { RecentLogEntry } from '../tracker/recent-log.js';
import type { QueueDepthReader, QueueDepths } from './queue-depths.js';
import type { WebSources } from './web-sources.js';

/** `GET /api/status`: what the dashboard shows, as JSON (docs/dashboard.md). */
export interface StatusReport {
  readonly tracker: {
    readonly hostname: string;
    readonly uptimeSeconds: number;
    readonly monitorRounds: number;
    readonly jobMaster: boolean;
    readonly engine: string;
  };
  readonly hosts: readonly HostStatus[];
  readonly devices: readonly DeviceStatus[];
  /** null while the database does not answer. */
  readonly queues: QueueDepths | null;
  readonly db: { readonly inUse: number; readonly waiting: number; readonly poolSize: number };
  readonly requests: {
    readonly total: number;
    readonly inProgress: number;
    readonly invariantViolations: number;
    readonly dbBusy: number;
    readonly timeouts: number;
  };
  readonly workers: Readonly<Record<string, Readonly<Record<string, number>>>>;
  readonly fsck: ProgressStatus | null;
  readonly rebalance: ProgressStatus | null;
  readonly recentErrors: readonly RecentLogEntry[];
}

export interface HostStatus {
  readonly hostid: number;
  readonly name: string;
  readonly address: string;
  readonly status: string;
  readonly reachable: boolean | null;
}

export interface DeviceStatus {
  readonly devid: number;
  readonly host: string;
  readonly status: string;
  readonly observed: string;
  readonly mbTotal: number | null;
  readonly mbUsed: number | null;
  readonly mbFree: number | null;
  readonly utilization: number | null;
  readonly weight: number | null;
}

export interface ProgressStatus {
  readonly running: boolean;
  readonly host: string;
  /** 0..1 where the run's extent is known. */
  readonly progress: number | null;
  readonly detail: Readonly<Record<string, string>>;
}

export async function buildStatusReport(
  sources: WebSources,
  queues: QueueDepthReader,
): Promise<StatusReport> {
  const { services, stats, config } = sources;
  const snapshot = await services.cluster.current();
  const counter = (name: string) => stats.counters().find(([key]) => key === name)?.[1] ?? 0;
  const [depths, settings] = await Promise.all([
    queues.read().catch(() => null),
    services.meta.listSettings().catch(() => undefined),
  ]);
  const hosts = snapshot.hosts.map(
    (host): HostStatus => ({
      hostid: host.hostid,
      name: host.name,
      address: `${host.ip}:${host.httpPort ?? 7500}`,
      status: host.status,
      reachable: services.observations.hostReachable(host.hostid) ?? null,
    }),
  );
  const devices = snapshot.devices.map((device): DeviceStatus => {
    const observation = services.observations.device(device.devid);
    const utilization = Number(observation?.utilization);
    return {
      devid: device.devid,
      host: snapshot.host(device.hostid)?.name ?? String(device.hostid),
      status: device.status,
      observed: observation?.state ?? 'unknown',
      mbTotal: device.mbTotal,
      mbUsed: device.mbUsed,
      mbFree: mbFree(device) ?? null,
      utilization: Number.isFinite(utilization) ? utilization : null,
      weight: device.weight,
    };
  });
  const workers: Record<string, Record<string, number>> = {};
  for (const [worker, totals] of services.workers?.totals() ?? []) {
    workers[worker] = Object.fromEntries(totals);
  }
  return {
    tracker: {
      hostname: services.hostname,
      uptimeSeconds: stats.uptimeSeconds(),
      monitorRounds: services.monitor.completedRounds,
      jobMaster: config.jobMaster,
      engine: services.meta.engine,
    },
    hosts,
    devices,
    queues: depths,
    db: {
      inUse: services.dbGate?.inUse ?? 0,
      waiting: services.dbGate?.waiting ?? 0,
      poolSize: services.meta.engine === 'sqlite' ? 1 : config.dbPoolSize,
    },
    requests: {
      total: counter('queries'),
      inProgress: stats.processing,
      invariantViolations: counter('invariant_violations'),
      dbBusy: counter('db_busy'),
      timeouts: counter('request_timeouts'),
    },
    workers,
    fsck: settings ? fsckProgress(settings) : null,
    rebalance: settings ? rebalanceProgress(settings) : null,
    recentErrors: sources.recentLog.entries().slice(-50).reverse(),
  };
}

/** From the `fsck_*` settings (behaviour.md §9), as `fsck_status` reads them. */
function fsckProgress(settings: ReadonlyMap<string, string>): ProgressStatus {
  const host = settings.get('fsck_host') ?? '';
  const start = Number(settings.get('fsck_start_fid') ?? 0) || 0;
  const end = Number(settings.get('fsck_fid_at_end') ?? 0) || 0;
  const checked = Number(settings.get('fsck_highest_fid_checked') ?? 0) || 0;
  const detail: Record<string, string> = {};
  for (const [key, value] of settings) {
    if (key.startsWith('fsck_sum_evcount_')) detail[key.slice('fsck_sum_evcount_'.length)] = value;
  }
  detail.max_fid_checked = String(checked);
  detail.end_fid = String(end);
  const span = end - start;
  const progress =
    end > 0 ? Math.min(1, span > 0 ? (checked - start) / span : checked / end) : null;
  return { running: host !== '', host, progress, detail };
}

/** From the `rebal_*` settings (behaviour.md §10). */
function rebalanceProgress(settings: ReadonlyMap<string, string>): ProgressStatus {
  const host = settings.get('rebal_host') ?? '';
  const detail: Record<string, string> = {};
  const policy = settings.get('rebal_policy');
  if (policy) detail.policy = policy;
  // The saved state is `key=value` pairs joined by `&`; only the counters are shown.
  for (const pair of (settings.get('rebal_state') ?? '').split(/[&;,\s]+/)) {
    const [key, value] = pair.split('=');
    if (key && value && /^\d+$/.test(value)) detail[key] = value;
  }
  return { running: host !== '', host, progress: null, detail };
}
