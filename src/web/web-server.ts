import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createAdaptorServer } from '@hono/node-server';
import type { Logger } from 'pino';
import type { ListenAddress } from '../tracker/config.js';
import { FileGateway } from './gateway/file-gateway.js';
import { HistorySampler } from './history-sampler.js';
import { QueueDepthReader } from './queue-depths.js';
import { RequestLatencies } from './request-latencies.js';
import { createTrackerMetrics } from './tracker-metrics.js';
import { createWebApp } from './web-app.js';
import type { WebSources } from './web-sources.js';

export interface WebServerOptions {
  readonly listen: ListenAddress;
  readonly sampleIntervalMs: number;
  readonly logger?: Logger | undefined;
  /** Gateway files up to this size are verified in memory (default 16 MiB). */
  readonly gatewayBufferMaxBytes?: number;
}

export interface RunningWebServer {
  readonly address: ListenAddress;
  close(): Promise<void>;
}

/**
 * Starts the tracker's HTTP side: dashboard, JSON status, history, `/metrics`, health,
 * and the file gateway. It reads the tracker's state; the tracker knows nothing of it
 * (architecture.md §2: web imports tracker, never the reverse).
 */
export async function startWebServer(
  sources: WebSources,
  options: WebServerOptions,
): Promise<RunningWebServer> {
  const queues = new QueueDepthReader(sources);
  const metrics = createTrackerMetrics(sources, queues);
  const latencies = new RequestLatencies(sources.stats);
  const history = new HistorySampler(sources, queues, latencies, options.sampleIntervalMs);
  const gateway = new FileGateway({
    sources,
    metrics,
    logger: options.logger,
    ...(options.gatewayBufferMaxBytes !== undefined && {
      bufferMaxBytes: options.gatewayBufferMaxBytes,
    }),
  });
  const app = createWebApp({ sources, metrics, queues, history, gateway, logger: options.logger });
  const server = createAdaptorServer({ fetch: app.fetch }) as Server;
  const release = async () => {
    await history.stop();
    latencies.close();
    metrics.close();
    await gateway.close();
  };
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.listen.port, options.listen.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (error) {
    await release();
    throw error;
  }
  history.start();
  const bound = server.address() as AddressInfo;
  options.logger?.info({ host: bound.address, port: bound.port }, 'HTTP side listening');
  return {
    address: { host: options.listen.host, port: bound.port },
    async close() {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      await release();
    },
  };
}
