import type { HttpBindings } from '@hono/node-server';
import { Hono } from 'hono';
import type { Logger } from 'pino';
import { DASHBOARD_PATHS, DashboardAssets } from './dashboard-assets.js';
import type { FileGateway } from './gateway/file-gateway.js';
import type { HistorySampler } from './history-sampler.js';
import type { QueueDepthReader } from './queue-depths.js';
import { buildStatusReport } from './status-report.js';
import type { TrackerMetrics } from './tracker-metrics.js';
import type { WebSources } from './web-sources.js';

export interface WebAppParts {
  readonly sources: WebSources;
  readonly metrics: TrackerMetrics;
  readonly queues: QueueDepthReader;
  readonly history: HistorySampler;
  readonly gateway: FileGateway;
  readonly logger?: Logger | undefined;
}

const READY_CHECK_TIMEOUT_MS = 2000;

/** The routes of the tracker's HTTP side; handlers return responses, Hono writes them. */
export function createWebApp(parts: WebAppParts): Hono<{ Bindings: HttpBindings }> {
  const { sources, metrics, queues, history, gateway } = parts;
  const app = new Hono<{ Bindings: HttpBindings }>();
  const assets = new DashboardAssets();

  app.get('/healthz', (c) => c.text('ok\n'));
  app.get('/readyz', async (c) => {
    const problems = await readinessProblems(sources);
    if (problems.length > 0) return c.text(`not ready: ${problems.join('; ')}\n`, 503);
    return c.text('ready\n');
  });
  app.get('/metrics', async (c) => {
    const body = await metrics.registry.metrics();
    return c.body(body, 200, { 'Content-Type': metrics.registry.contentType });
  });
  app.get('/api/status', async (c) => {
    c.header('Cache-Control', 'no-store');
    return c.json(await buildStatusReport(sources, queues));
  });
  app.get('/api/history', (c) => {
    c.header('Cache-Control', 'no-store');
    return c.json(history.history());
  });
  app.get('/file/:domain/:key{.+}', (c) => gateway.handle(c));
  for (const path of DASHBOARD_PATHS) {
    app.get(path, async (c) => {
      const asset = await assets.load(path);
      if (!asset) return c.notFound();
      return c.body(new Uint8Array(asset.body), 200, {
        'Content-Type': asset.type,
        'Cache-Control': 'no-cache',
      });
    });
  }
  app.onError((error, c) => {
    // The one place an unexpected exception becomes a response.
    parts.logger?.error({ err: error, path: c.req.path }, 'HTTP request failed');
    return c.text('internal error\n', 500);
  });
  return app;
}

/** Ready: the database answers and the monitor has completed its first round. */
async function readinessProblems(sources: WebSources): Promise<string[]> {
  const { services } = sources;
  const problems: string[] = [];
  if (services.monitor.completedRounds === 0) problems.push('first monitor round not done');
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      services.meta.listDomains(),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error('no answer in time')), READY_CHECK_TIMEOUT_MS);
      }),
    ]);
  } catch (error) {
    problems.push(`database unreachable (${(error as Error).message})`);
  } finally {
    clearTimeout(timer);
  }
  return problems;
}
