/**
 * Files through a real cluster (a tracker on SQLite, 3 storage nodes x 2 devices, separate
 * processes) with our MogileClient: store, get and delete of 4 KiB files at concurrency
 * 8 and 32, and 64 MiB files. Prints ops/s, MB/s, p50 and p99.
 */
import { randomBytes } from 'node:crypto';
import { MogileClient } from '../src/client/mogile-client.js';
import { startCluster } from '../test/helpers/cluster.js';
import { formatRun, runConcurrent } from './lib/measure.js';

const SMALL_BYTES = 4096;
const SMALL_FILES = 2000;
const LARGE_BYTES = 64 * 1024 * 1024;
const LARGE_FILES = 4;

export async function run(): Promise<void> {
  const cluster = await startCluster({ nodes: 3, devicesPerNode: 2, classes: { two: 2 } });
  const client = new MogileClient({ trackers: [cluster.trackerAddress], domain: 'd' });
  try {
    const small = randomBytes(SMALL_BYTES);
    for (const concurrency of [8, 32]) {
      const key = (i: number) => `small-c${concurrency}-${i}`;
      const store = await runConcurrent(SMALL_FILES, concurrency, async (i) => {
        await client.store(key(i), small, { class: 'two' });
      });
      process.stdout.write(`${formatRun(`store 4 KiB c=${concurrency}`, store, SMALL_BYTES)}\n`);
      const get = await runConcurrent(SMALL_FILES, concurrency, async (i) => {
        const body = await client.get(key(i));
        if (body.length !== SMALL_BYTES) throw new Error(`short read of ${key(i)}`);
      });
      process.stdout.write(`${formatRun(`get 4 KiB c=${concurrency}`, get, SMALL_BYTES)}\n`);
      const remove = await runConcurrent(SMALL_FILES, concurrency, async (i) => {
        await client.delete(key(i));
      });
      process.stdout.write(`${formatRun(`delete c=${concurrency}`, remove, 0)}\n`);
    }
    const large = randomBytes(LARGE_BYTES);
    const storeLarge = await runConcurrent(LARGE_FILES, 1, async (i) => {
      await client.store(`large-${i}`, large, { class: 'two' });
    });
    process.stdout.write(`${formatRun('store 64 MiB c=1', storeLarge, LARGE_BYTES)}\n`);
    const getLarge = await runConcurrent(LARGE_FILES, 1, async (i) => {
      const stream = await client.get(`large-${i}`, { as: 'stream' });
      let bytes = 0;
      for await (const chunk of stream) bytes += (chunk as Buffer).length;
      if (bytes !== LARGE_BYTES) throw new Error(`short read of large-${i}`);
    });
    process.stdout.write(`${formatRun('get 64 MiB c=1', getLarge, LARGE_BYTES)}\n`);
  } finally {
    await client.close();
    await cluster.stop();
  }
}
