import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parsePrometheusText, samplesOf } from '../web/prometheus-text.js';
import { makeDocroot, type NodeProcess, removeDocroot, startNode } from './node-harness.js';

describe('storage node /metrics', () => {
  let node: NodeProcess;
  let base: string;

  beforeAll(async () => {
    node = await startNode(makeDocroot([1, 2]));
    base = `http://${node.http.host}:${node.http.port}`;
  });

  afterAll(async () => {
    await node?.stop();
    if (node) removeDocroot(node.docroot);
  });

  it('counts bytes in and out, requests, errors, fsyncs and disk usage', async () => {
    const body = Buffer.alloc(12_345, 7);
    const path = `${base}/dev1/0/000/000/0000000421.fid`;
    expect((await fetch(path, { method: 'PUT', body })).ok).toBe(true);
    expect(Buffer.from(await (await fetch(path)).arrayBuffer()).length).toBe(body.length);
    expect((await fetch(`${base}/dev1/0/000/000/0000000999.fid`)).status).toBe(404);

    const response = await fetch(`${base}/metrics`);
    expect(response.status).toBe(200);
    const parsed = parsePrometheusText(await response.text());
    const value = (name: string, labels: Record<string, string> = {}) =>
      samplesOf(parsed, name, labels)[0]?.value;
    expect(value('mogile_storage_received_bytes_total')).toBe(body.length);
    expect(value('mogile_storage_sent_bytes_total')).toBe(body.length);
    expect(value('mogile_storage_requests_total', { method: 'PUT' })).toBe(1);
    expect(value('mogile_storage_responses_total', { status: '404' })).toBe(1);
    expect(value('mogile_storage_errors_total')).toBe(0);
    expect(value('mogile_storage_fsyncs_total')).toBeGreaterThan(0);
    expect(value('mogile_storage_fsync_seconds_total')).toBeGreaterThan(0);
    const disks = samplesOf(parsed, 'mogile_storage_disk_total_bytes');
    expect(disks.map((sample) => sample.labels.device)).toEqual(['dev1', 'dev2']);
    expect(disks[0]!.value).toBeGreaterThan(0);
    expect(value('mogile_storage_disk_used_bytes', { device: 'dev1' })).toBeGreaterThan(0);
  });
});
