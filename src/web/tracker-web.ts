import type { ListenAddress } from '../tracker/config.js';
import type { RunningTracker } from '../tracker/tracker.js';
import { type RunningWebServer, startWebServer } from './web-server.js';

/**
 * Starts the HTTP side of a running tracker as its configuration says (`http_listen`,
 * `http_sample_interval`, `gateway_*`); undefined when `http_listen` is `none`.
 */
export async function startTrackerWeb(
  tracker: RunningTracker,
): Promise<RunningWebServer | undefined> {
  const { config } = tracker;
  if (!config.httpListen) return undefined;
  const own = tracker.addresses[0];
  if (!own) throw new Error('the tracker listens nowhere; the HTTP side needs its address');
  return startWebServer(
    {
      config,
      services: tracker.services,
      stats: tracker.stats,
      recentLog: tracker.recentLog,
      trackerAddress: reachableAddress(own),
    },
    {
      listen: config.httpListen,
      sampleIntervalMs: config.httpSampleIntervalMs,
      gatewayBufferMaxBytes: config.gatewayBufferMaxBytes,
      logger: tracker.logger,
    },
  );
}

/** A wildcard listen address is reached through loopback. */
function reachableAddress({ host, port }: ListenAddress): string {
  if (host === '0.0.0.0') return `127.0.0.1:${port}`;
  if (host === '::') return `[::1]:${port}`;
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}
