import type { ServerResponse } from 'node:http';
import { Counter, collectDefaultMetrics, Gauge, Registry } from 'prom-client';
import { SERVER_HEADER } from './http-replies.js';
import type { NodeContext } from './node-context.js';
import { measureUsage } from './usage-file.js';

/** The path serving the node's Prometheus metrics (docs/dashboard.md). */
export const METRICS_PATH = '/metrics';

const KIB = 1024;
const registries = new WeakMap<NodeContext, Registry>();

/** `GET /metrics`: the node's counters and its devices' disk usage, Prometheus text. */
export async function sendMetrics(ctx: NodeContext, res: ServerResponse): Promise<void> {
  let registry = registries.get(ctx);
  if (!registry) {
    registry = createStorageRegistry(ctx);
    registries.set(ctx, registry);
  }
  const body = Buffer.from(await registry.metrics());
  res.writeHead(200, {
    'Content-Type': registry.contentType,
    'Content-Length': body.length,
    'Cache-Control': 'no-store',
    Server: SERVER_HEADER,
  });
  res.end(res.req.method === 'HEAD' ? undefined : body);
}

/**
 * Series read from StorageStats at scrape time: the hot path keeps its plain counters and
 * pays nothing for metrics between scrapes.
 */
function createStorageRegistry(ctx: NodeContext): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'mogile_storage_' });
  const snapshot = () => ctx.stats.snapshot();
  const counter = (name: string, help: string, read: () => number) =>
    new Counter({
      name,
      help,
      registers: [registry],
      collect() {
        this.reset();
        this.inc(read());
      },
    });
  counter(
    'mogile_storage_received_bytes_total',
    'File bytes received by PUT.',
    () => snapshot().bytesIn,
  );
  counter('mogile_storage_sent_bytes_total', 'File bytes sent by GET.', () => snapshot().bytesOut);
  counter('mogile_storage_puts_stored_total', 'Uploads stored.', () => snapshot().putsStored);
  counter('mogile_storage_put_failures_total', 'Uploads that failed.', () => snapshot().putsFailed);
  counter(
    'mogile_storage_errors_total',
    'Responses with a 5xx status, plus failed uploads answered otherwise.',
    () => {
      const current = snapshot();
      const serverErrors = Object.entries(current.responsesByStatus)
        .filter(([status]) => status.startsWith('5'))
        .reduce((sum, [, count]) => sum + count, 0);
      return Math.max(serverErrors, current.putsFailed);
    },
  );
  counter('mogile_storage_fsyncs_total', 'fsync calls made.', () => snapshot().fsyncCount);
  counter(
    'mogile_storage_fsync_seconds_total',
    'Time spent in fsync (rate over fsyncs_total gives the mean).',
    () => snapshot().fsyncTotalMs / 1000,
  );
  new Gauge({
    name: 'mogile_storage_fsync_max_seconds',
    help: 'The longest fsync since the node started.',
    registers: [registry],
    collect() {
      this.set(snapshot().fsyncMaxMs / 1000);
    },
  });
  new Counter({
    name: 'mogile_storage_requests_total',
    help: 'HTTP requests by method.',
    labelNames: ['method'] as const,
    registers: [registry],
    collect() {
      this.reset();
      for (const [method, count] of Object.entries(snapshot().requestsByMethod)) {
        this.inc({ method }, count);
      }
    },
  });
  new Counter({
    name: 'mogile_storage_responses_total',
    help: 'HTTP responses by status.',
    labelNames: ['status'] as const,
    registers: [registry],
    collect() {
      this.reset();
      for (const [status, count] of Object.entries(snapshot().responsesByStatus)) {
        this.inc({ status }, count);
      }
    },
  });
  new Gauge({
    name: 'mogile_storage_connections_open',
    help: 'Open HTTP connections.',
    registers: [registry],
    collect() {
      this.set(snapshot().connectionsOpen);
    },
  });
  addDiskUsage(registry, ctx);
  return registry;
}

/** Each device's file system, measured like its `usage` file (storage-node.md §4). */
function addDiskUsage(registry: Registry, ctx: NodeContext): void {
  const gauge = (name: string, help: string, field: 'total' | 'used' | 'available') =>
    new Gauge({
      name,
      help,
      labelNames: ['device'] as const,
      registers: [registry],
      async collect() {
        this.reset();
        for (const device of ctx.registry.list()) {
          const usage = await measureUsage(device).catch(() => undefined);
          if (usage) this.set({ device: device.name }, usage[field] * KIB);
        }
      },
    });
  gauge('mogile_storage_disk_total_bytes', 'Size of the device file system.', 'total');
  gauge('mogile_storage_disk_used_bytes', 'Bytes used on the device file system.', 'used');
  gauge('mogile_storage_disk_available_bytes', 'Bytes still available.', 'available');
}
