import { createHash, randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MogileClient } from '../../src/client/mogile-client.js';
import { startCluster, type TestCluster } from '../helpers/cluster.js';
import { eventually } from '../workers/cluster-files.js';

/** Files above this size take the gateway's check-then-stream path. */
const BUFFER_MAX_BYTES = 64 * 1024;

describe('HTTP read gateway', () => {
  let cluster: TestCluster;
  let client: MogileClient;
  let base: string;
  const small = randomBytes(10_000);
  const large = randomBytes(300_000);

  beforeAll(async () => {
    cluster = await startCluster({
      nodes: 2,
      devicesPerNode: 1,
      classes: { two: 2 },
      tracker: { args: ['--gateway-buffer-max', String(BUFFER_MAX_BYTES)] },
    });
    base = `http://127.0.0.1:${cluster.tracker.httpPort}`;
    client = new MogileClient({ trackers: [cluster.trackerAddress], domain: 'd' });
    for (const [key, bytes] of [
      ['gw-small', small],
      ['gw-large', large],
      ['gw-small-bad', small],
      ['gw-large-bad', large],
    ] as const) {
      await client.store(key, bytes, { class: 'two' });
    }
    for (const key of ['gw-small', 'gw-large', 'gw-small-bad', 'gw-large-bad']) {
      await waitForCopies(key, 2);
    }
  }, 60_000);

  afterAll(async () => {
    await client?.close();
    await cluster?.stop();
  });

  /** Copies appear as the replicator makes them (replicate_now wakes it each poll). */
  async function waitForCopies(key: string, count: number): Promise<void> {
    await eventually(cluster, async () =>
      (await client.getPaths(key, { pathcount: 10 })).length >= count ? true : undefined,
    );
  }

  /** The files on disk that hold the key's copies. */
  async function copyFiles(key: string): Promise<string[]> {
    const paths = await client.getPaths(key, { pathcount: 10 });
    return paths.map((path) => {
      const url = new URL(path);
      const devid = Number(/^\/dev(\d+)\//.exec(url.pathname)![1]);
      return join(cluster.deviceNode.get(devid)!.docroot, url.pathname);
    });
  }

  function flipByte(file: string, offset: number): void {
    const bytes = readFileSync(file);
    bytes[offset] = bytes[offset]! ^ 0xff;
    writeFileSync(file, bytes);
  }

  const md5 = (bytes: Uint8Array) => createHash('md5').update(bytes).digest('hex');

  for (const [key, size] of [
    ['gw-small', 'small'],
    ['gw-large', 'large'],
  ] as const) {
    it(`streams a ${size} file whole, with its length and checksum`, async () => {
      const expected = key === 'gw-small' ? small : large;
      const response = await fetch(`${base}/file/d/${key}`);
      expect(response.status).toBe(200);
      expect(response.headers.get('content-length')).toBe(String(expected.length));
      expect(response.headers.get('accept-ranges')).toBe('bytes');
      expect(response.headers.get('etag')).toBe(`"MD5:${md5(expected)}"`);
      expect(Buffer.from(await response.arrayBuffer()).equals(expected)).toBe(true);
    });

    it(`serves byte ranges of a ${size} file`, async () => {
      const expected = key === 'gw-small' ? small : large;
      const ranged = await fetch(`${base}/file/d/${key}`, { headers: { Range: 'bytes=100-199' } });
      expect(ranged.status).toBe(206);
      expect(ranged.headers.get('content-range')).toBe(`bytes 100-199/${expected.length}`);
      expect(Buffer.from(await ranged.arrayBuffer()).equals(expected.subarray(100, 200))).toBe(
        true,
      );
      const suffix = await fetch(`${base}/file/d/${key}`, { headers: { Range: 'bytes=-10' } });
      expect(suffix.status).toBe(206);
      expect(Buffer.from(await suffix.arrayBuffer()).equals(expected.subarray(-10))).toBe(true);
      const beyond = await fetch(`${base}/file/d/${key}`, {
        headers: { Range: `bytes=${expected.length}-` },
      });
      expect(beyond.status).toBe(416);
      expect(beyond.headers.get('content-range')).toBe(`bytes */${expected.length}`);
    });
  }

  it('answers HEAD with the headers of a GET and no body', async () => {
    const response = await fetch(`${base}/file/d/gw-large`, { method: 'HEAD' });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-length')).toBe(String(large.length));
    expect(response.headers.get('etag')).toBe(`"MD5:${md5(large)}"`);
    expect((await response.arrayBuffer()).byteLength).toBe(0);
    const ranged = await fetch(`${base}/file/d/gw-large`, {
      method: 'HEAD',
      headers: { Range: 'bytes=0-9' },
    });
    expect(ranged.status).toBe(206);
    expect(ranged.headers.get('content-length')).toBe('10');
  });

  it('answers 404 for an unknown key or domain', async () => {
    expect((await fetch(`${base}/file/d/gw-missing`)).status).toBe(404);
    expect((await fetch(`${base}/file/no-such-domain/gw-small`)).status).toBe(404);
  });

  it('hands the transfer to Perlbal with X-REPROXY-URL', async () => {
    const response = await fetch(`${base}/file/d/gw-large?reproxy=perlbal`);
    expect(response.status).toBe(200);
    const urls = response.headers.get('x-reproxy-url')!.split(' ');
    expect(urls).toHaveLength(2);
    for (const url of urls) expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/dev\d+\/.*\.fid/);
    expect(response.headers.get('x-reproxy-expected-size')).toBe(String(large.length));
    expect((await response.arrayBuffer()).byteLength).toBe(0);
    // `reproxy=1` with no configured proxy means Perlbal, the original's reproxy.
    const plain = await fetch(`${base}/file/d/gw-large?reproxy=1`);
    expect(plain.headers.get('x-reproxy-url')).not.toBeNull();
  });

  it('hands the transfer to nginx with X-Accel-Redirect into the internal location', async () => {
    const response = await fetch(`${base}/file/d/gw-small?reproxy=nginx`);
    expect(response.status).toBe(200);
    const redirect = response.headers.get('x-accel-redirect')!;
    const url = new URL(response.headers.get('x-reproxy-url')!);
    expect(redirect).toBe(`/reproxy/${url.host}${url.pathname}${url.search}`);
    expect(redirect).toMatch(
      /^\/reproxy\/127\.0\.0\.1:\d+\/dev\d+\/\d\/\d{3}\/\d{3}\/\d{10}\.fid$/,
    );
  });

  for (const [key, size] of [
    ['gw-small-bad', 'small'],
    ['gw-large-bad', 'large'],
  ] as const) {
    it(`never serves a corrupted copy of a ${size} file`, async () => {
      const expected = key === 'gw-small-bad' ? small : large;
      const [first, second] = await copyFiles(key);
      flipByte(first!, 5000);
      // Whichever copy the tracker lists first, the bytes served are the good copy's.
      for (let round = 0; round < 4; round++) {
        const response = await fetch(`${base}/file/d/${key}`);
        expect(response.status).toBe(200);
        expect(Buffer.from(await response.arrayBuffer()).equals(expected)).toBe(true);
      }
      flipByte(second!, 7000);
      for (let round = 0; round < 2; round++) {
        const response = await fetch(`${base}/file/d/${key}`);
        expect(response.status).toBe(502);
        expect(await response.text()).not.toContain(expected.subarray(0, 100).toString('latin1'));
      }
      const metrics = await (await fetch(`${base}/metrics`)).text();
      const mismatches = /^mogile_gateway_checksum_mismatches_total (\d+)$/m.exec(metrics);
      expect(Number(mismatches?.[1])).toBeGreaterThan(0);
    });
  }
});
