import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import type { DeviceRow } from '../meta/index.js';
import { percentFree } from '../tracker/device-state.js';
import type { QueueDepthReader } from './queue-depths.js';
import type { WebSources } from './web-sources.js';

/** The tracker's Prometheus series (docs/dashboard.md lists them). */
export interface TrackerMetrics {
  readonly registry: Registry;
  readonly gatewayRequests: Counter<'method' | 'result'>;
  readonly gatewayBytes: Counter;
  readonly gatewayChecksumMismatches: Counter;
  close(): void;
}

const LATENCY_BUCKETS_S = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];
const MIB = 1024 * 1024;

/** Counters of QueryStats exposed as their own series (the rest stay in `!stats`). */
const TRACKER_COUNTERS: Readonly<Record<string, [string, string]>> = {
  invariant_violations: [
    'mogile_invariant_violations_total',
    'Requests refused because an integrity invariant broke (architecture.md §4.5).',
  ],
  db_busy: ['mogile_db_busy_total', 'Requests answered ERR db_busy.'],
  request_timeouts: ['mogile_request_timeouts_total', 'Requests answered ERR timeout.'],
};

export function createTrackerMetrics(
  sources: WebSources,
  queues: QueueDepthReader,
): TrackerMetrics {
  const registry = new Registry();
  const { services, stats } = sources;
  collectDefaultMetrics({ register: registry, prefix: 'mogile_tracker_' });

  const requests = new Counter({
    name: 'mogile_requests_total',
    help: 'Tracker protocol requests by command and result (ok or the ERR code).',
    labelNames: ['command', 'result'] as const,
    registers: [registry],
  });
  const latency = new Histogram({
    name: 'mogile_request_duration_seconds',
    help: 'Time from a request line arriving to its reply being ready.',
    labelNames: ['command'] as const,
    buckets: LATENCY_BUCKETS_S,
    registers: [registry],
  });
  const unsubscribe = stats.onQuery((query) => {
    const command = query.command ?? 'unknown';
    requests.inc({ command, result: query.result ?? 'ok' });
    latency.observe({ command }, query.totalMs / 1000);
  });
  new Gauge({
    name: 'mogile_requests_in_progress',
    help: 'Requests being handled now.',
    registers: [registry],
    collect() {
      this.set(stats.processing);
    },
  });
  for (const [counter, [name, help]] of Object.entries(TRACKER_COUNTERS)) {
    new Counter({
      name,
      help,
      registers: [registry],
      collect() {
        const value = stats.counters().find(([key]) => key === counter)?.[1] ?? 0;
        this.reset();
        this.inc(value);
      },
    });
  }

  new Gauge({
    name: 'mogile_db_pool_in_use',
    help: 'Database connections running a statement.',
    registers: [registry],
    collect() {
      this.set(services.dbGate?.inUse ?? 0);
    },
  });
  new Gauge({
    name: 'mogile_db_pool_waiting',
    help: 'Calls waiting for a database connection.',
    registers: [registry],
    collect() {
      this.set(services.dbGate?.waiting ?? 0);
    },
  });

  new Gauge({
    name: 'mogile_queue_depth',
    help: 'Rows in each work queue (replicate, delete, fsck, rebalance).',
    labelNames: ['queue'] as const,
    registers: [registry],
    async collect() {
      // A scrape while the database is down still answers; the series is simply absent.
      const depths = await queues.read().catch(() => undefined);
      this.reset();
      for (const [queue, depth] of Object.entries(depths ?? {})) this.set({ queue }, depth);
    },
  });
  new Counter({
    name: 'mogile_worker_items_total',
    help: 'Items handled by the background workers, by worker and outcome (rate() gives the pace).',
    labelNames: ['worker', 'outcome'] as const,
    registers: [registry],
    collect() {
      this.reset();
      for (const [worker, totals] of services.workers?.totals() ?? []) {
        for (const [outcome, value] of totals) this.inc({ worker, outcome }, value);
      }
    },
  });
  new Counter({
    name: 'mogile_monitor_rounds_total',
    help: 'Monitor rounds completed since start.',
    registers: [registry],
    collect() {
      this.reset();
      this.inc(services.monitor.completedRounds);
    },
  });

  addClusterGauges(registry, sources);

  const gatewayRequests = new Counter({
    name: 'mogile_gateway_requests_total',
    help: 'HTTP gateway requests by method and result (streamed, reproxied or an error).',
    labelNames: ['method', 'result'] as const,
    registers: [registry],
  });
  const gatewayBytes = new Counter({
    name: 'mogile_gateway_sent_bytes_total',
    help: 'File bytes the gateway streamed.',
    registers: [registry],
  });
  const gatewayChecksumMismatches = new Counter({
    name: 'mogile_gateway_checksum_mismatches_total',
    help: 'Copies the gateway refused because their bytes did not match the checksum.',
    registers: [registry],
  });
  return {
    registry,
    gatewayRequests,
    gatewayBytes,
    gatewayChecksumMismatches,
    close: unsubscribe,
  };
}

/** Hosts and devices from the cluster view and the monitor's observations. */
function addClusterGauges(registry: Registry, sources: WebSources): void {
  const { services } = sources;
  const snapshot = () => services.cluster.current();
  new Gauge({
    name: 'mogile_host_info',
    help: 'One series per host; status is the admin state, reachable what the monitor saw.',
    labelNames: ['host', 'status', 'reachable'] as const,
    registers: [registry],
    async collect() {
      this.reset();
      for (const host of (await snapshot()).hosts) {
        const reachable = String(services.observations.hostReachable(host.hostid) ?? 'unknown');
        this.set({ host: host.name, status: host.status, reachable }, 1);
      }
    },
  });
  const deviceLabels = ['devid', 'host'] as const;
  // Each series reads the cached snapshot itself: prom-client collects them concurrently.
  const eachDevice = async (visit: (device: DeviceRow, labels: DeviceLabels) => void) => {
    const current = await snapshot();
    for (const device of current.devices) {
      const host = current.host(device.hostid)?.name ?? String(device.hostid);
      visit(device, { devid: String(device.devid), host });
    }
  };
  new Gauge({
    name: 'mogile_device_info',
    help: 'One series per device; status is the admin state, observed what the monitor saw.',
    labelNames: [...deviceLabels, 'status', 'observed'] as const,
    registers: [registry],
    async collect() {
      this.reset();
      await eachDevice((device, labels) => {
        const observed = services.observations.device(device.devid)?.state ?? 'unknown';
        this.set({ ...labels, status: device.status, observed }, 1);
      });
    },
  });
  new Gauge({
    name: 'mogile_device_total_bytes',
    help: 'Device size as last recorded from its usage file.',
    labelNames: deviceLabels,
    registers: [registry],
    async collect() {
      this.reset();
      await eachDevice((device, labels) => {
        if (device.mbTotal !== null) this.set(labels, device.mbTotal * MIB);
      });
    },
  });
  new Gauge({
    name: 'mogile_device_used_bytes',
    help: 'Bytes used on the device as last recorded.',
    labelNames: deviceLabels,
    registers: [registry],
    async collect() {
      this.reset();
      await eachDevice((device, labels) => {
        if (device.mbUsed !== null) this.set(labels, device.mbUsed * MIB);
      });
    },
  });
  new Gauge({
    name: 'mogile_device_free_ratio',
    help: 'Free share of the device, 0..1 (0 while unknown).',
    labelNames: deviceLabels,
    registers: [registry],
    async collect() {
      this.reset();
      await eachDevice((device, labels) => this.set(labels, percentFree(device)));
    },
  });
}

interface DeviceLabels {
  devid: string;
  host: string;
}
