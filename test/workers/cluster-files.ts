import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { request } from 'undici';
import { fidPath } from '../../src/protocol/fid-path.js';
import type { TestCluster } from '../helpers/cluster.js';
import { waitFor } from '../helpers/wait-for.js';

/** create_open + PUT + create_close over the protocol; returns the fid. */
export async function storeFile(
  cluster: TestCluster,
  className: string,
  key: string,
  body: string | Buffer,
): Promise<number> {
  const open = await cluster.ok(
    `create_open domain=d&class=${className}&key=${encodeURIComponent(key)}`,
  );
  const response = await request(open['path']!, { method: 'PUT', body });
  await response.body.dump();
  if (response.statusCode !== 200) throw new Error(`PUT answered ${response.statusCode}`);
  await cluster.ok(
    `create_close domain=d&fid=${open['fid']}&devid=${open['devid']}&path=${open['path']}` +
      `&key=${encodeURIComponent(key)}&size=${Buffer.byteLength(body)}`,
  );
  return Number(open['fid']);
}

export async function fileDevids(cluster: TestCluster, key: string): Promise<number[]> {
  const info = await cluster.ok(`file_info domain=d&key=${encodeURIComponent(key)}&devices=1`);
  return (info['devids'] ?? '').split(',').filter(Boolean).map(Number);
}

/** Where a copy lives on its node's disk. */
export function copyPath(cluster: TestCluster, devid: number, fid: number): string {
  const node = cluster.deviceNode.get(devid);
  if (!node) throw new Error(`no node serves dev${devid}`);
  return join(node.docroot, fidPath(devid, fid));
}

export function copyBytes(cluster: TestCluster, devid: number, fid: number): Buffer | undefined {
  const path = copyPath(cluster, devid, fid);
  return existsSync(path) ? readFileSync(path) : undefined;
}

/**
 * Polls until `check` returns a value, asking the tracker to retry deferred replication
 * each round; fails after `timeoutMs` with the last thing seen.
 */
export function eventually<T>(
  cluster: TestCluster,
  check: () => Promise<T | undefined>,
  timeoutMs = 20_000,
): Promise<T> {
  const checkAndRetry = async () => {
    const value = await check();
    if (value === undefined) await cluster.ok('replicate_now');
    return value;
  };
  return waitFor('the condition', checkAndRetry, timeoutMs, 100);
}
