import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MogileClient } from '../../src/client/mogile-client.js';
import type { History } from '../../src/web/history-sampler.js';
import type { StatusReport } from '../../src/web/status-report.js';
import { startCluster, type TestCluster } from '../helpers/cluster.js';
import { parsePrometheusText, samplesOf } from './prometheus-text.js';

describe('tracker HTTP side: health, metrics, status', () => {
  let cluster: TestCluster;
  let base: string;

  beforeAll(async () => {
    cluster = await startCluster({
      nodes: 2,
      devicesPerNode: 1,
      tracker: { args: ['--http-sample-interval', '0.2'] },
    });
    base = `http://127.0.0.1:${cluster.tracker.httpPort}`;
    const client = new MogileClient({ trackers: [cluster.trackerAddress], domain: 'd' });
    try {
      await client.store('metrics-file-1', Buffer.from('hello metrics'));
      await expect(client.get('no-such-key-metrics')).rejects.toThrow();
    } finally {
      await client.close();
    }
  }, 60_000);

  afterAll(async () => {
    await cluster?.stop();
  });

  it('prints its HTTP address apart from the protocol one', () => {
    expect(cluster.tracker.httpPort).toBeGreaterThan(0);
    expect(cluster.tracker.httpPort).not.toBe(cluster.tracker.port);
  });

  it('answers /healthz and, after the first monitor round, /readyz', async () => {
    const health = await fetch(`${base}/healthz`);
    expect(health.status).toBe(200);
    const ready = await fetch(`${base}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.text()).toBe('ready\n');
  });

  it('serves /metrics as valid Prometheus text with the documented series', async () => {
    const response = await fetch(`${base}/metrics`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    const parsed = parsePrometheusText(await response.text());
    expect(parsed.types.get('mogile_requests_total')).toBe('counter');
    expect(parsed.types.get('mogile_request_duration_seconds')).toBe('histogram');
    const stored = samplesOf(parsed, 'mogile_requests_total', {
      command: 'create_close',
      result: 'ok',
    });
    expect(stored[0]?.value).toBe(1);
    const unknown = samplesOf(parsed, 'mogile_requests_total', { result: 'unknown_key' });
    expect(unknown.reduce((sum, sample) => sum + sample.value, 0)).toBeGreaterThan(0);
    const buckets = samplesOf(parsed, 'mogile_request_duration_seconds_bucket', {
      command: 'create_open',
      le: '+Inf',
    });
    expect(buckets[0]?.value).toBe(1);
    for (const name of ['mogile_db_pool_in_use', 'mogile_db_pool_waiting']) {
      expect(samplesOf(parsed, name)).toHaveLength(1);
    }
    const queues = samplesOf(parsed, 'mogile_queue_depth').map((s) => s.labels.queue);
    expect(queues.sort()).toEqual(['delete', 'fsck', 'rebalance', 'replicate']);
    expect(samplesOf(parsed, 'mogile_worker_items_total', { worker: 'replicate' })).not.toEqual([]);
    expect(samplesOf(parsed, 'mogile_worker_items_total', { worker: 'fsck' })).not.toEqual([]);
    const devices = samplesOf(parsed, 'mogile_device_info');
    expect(devices.map((s) => s.labels.observed)).toEqual(['writeable', 'writeable']);
    expect(samplesOf(parsed, 'mogile_device_total_bytes')[0]?.value).toBeGreaterThan(0);
    expect(samplesOf(parsed, 'mogile_device_used_bytes')).toHaveLength(2);
    expect(samplesOf(parsed, 'mogile_host_info', { reachable: 'true' })).toHaveLength(2);
    expect(samplesOf(parsed, 'mogile_invariant_violations_total')[0]?.value).toBe(0);
  });

  it('serves the status JSON the dashboard reads', async () => {
    const response = await fetch(`${base}/api/status`);
    expect(response.status).toBe(200);
    const status = (await response.json()) as StatusReport;
    expect(status.hosts.map((h) => h.name).sort()).toEqual(['s1', 's2']);
    expect(status.devices).toHaveLength(2);
    expect(status.devices[0]).toMatchObject({ status: 'alive', observed: 'writeable' });
    expect(status.devices[0]?.mbTotal).toBeGreaterThan(0);
    expect(status.queues).toEqual(
      expect.objectContaining({ replicate: expect.any(Number), delete: expect.any(Number) }),
    );
    expect(status.tracker.engine).toBe('sqlite');
    expect(status.requests.total).toBeGreaterThan(0);
    expect(status.fsck).toMatchObject({ running: false });
    expect(Array.isArray(status.recentErrors)).toBe(true);
  });

  it('keeps sampled history in memory', async () => {
    let history = (await (await fetch(`${base}/api/history`)).json()) as History;
    // Samples come every 0.2 s here; a few status reads give the sampler time to run.
    for (let tries = 0; history.time.length < 2 && tries < 50; tries++) {
      await fetch(`${base}/api/status`);
      history = (await (await fetch(`${base}/api/history`)).json()) as History;
    }
    expect(history.intervalMs).toBe(200);
    expect(history.time.length).toBeGreaterThanOrEqual(2);
    expect(history.series.replicateQueue).toHaveLength(history.time.length);
    expect(history.series.requestsPerSecond.some((v) => (v ?? 0) > 0)).toBe(true);
    // The stored file gets its second copy from the replicator: a non-zero copy rate.
    await expect
      .poll(
        async () => {
          const latest = (await (await fetch(`${base}/api/history`)).json()) as History;
          return latest.series.copiesPerSecond.some((v) => (v ?? 0) > 0);
        },
        { timeout: 10_000, interval: 200 },
      )
      .toBe(true);
  });
});
