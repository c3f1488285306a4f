import { createHash } from 'node:crypto';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCluster, type TestCluster } from '../helpers/cluster.js';
import {
  copyBytes,
  copyPath,
  eventually,
  fileDevids,
  storeFile,
} from '../workers/cluster-files.js';

/**
 * Fsck against a real tracker and three storage nodes (behaviour.md §9): corrupt and
 * missing copies are found, logged and replaced; targets narrow a run; a down device does
 * not hold a run up.
 */
let cluster: TestCluster;
beforeAll(async () => {
  cluster = await startCluster({ nodes: 3, devicesPerNode: 1, classes: { two: 2 } });
}, 60_000);
afterAll(async () => {
  await cluster?.stop();
});

const unique = (name: string) => `${name}-${process.pid}-${Math.random().toString(36).slice(2)}`;
const md5 = (data: Buffer | string) => createHash('md5').update(data).digest('hex');

interface StoredFile {
  readonly key: string;
  readonly body: string;
  readonly fid: number;
  readonly devids: number[];
}

async function storeReplicated(count: number): Promise<StoredFile[]> {
  const files: StoredFile[] = [];
  for (let i = 0; i < count; i++) {
    const key = unique(`f${i}`);
    const body = `fsck body ${key} `.repeat(20);
    const fid = await storeFile(cluster, 'two', key, body);
    files.push({ key, body, fid, devids: [] });
  }
  return Promise.all(
    files.map(async (file) => ({
      ...file,
      devids: await eventually(cluster, async () => {
        const devids = await fileDevids(cluster, file.key);
        return devids.length === 2 ? devids : undefined;
      }),
    })),
  );
}

/** Flips bytes in the middle of a copy; the size stays the same. */
function corrupt(devid: number, fid: number): void {
  const path = copyPath(cluster, devid, fid);
  const bytes = readFileSync(path);
  for (let i = 10; i < 20; i++) bytes[i] = bytes[i]! ^ 0xff;
  writeFileSync(path, bytes);
}

interface LogRow {
  readonly fid: number;
  readonly evcode: string;
  readonly devid?: number;
}

async function fsckLog(): Promise<LogRow[]> {
  const rows: LogRow[] = [];
  let after = 0;
  for (;;) {
    const reply = await cluster.ok(`fsck_getlog after_logid=${after}`);
    const count = Number(reply.row_count);
    for (let i = 1; i <= count; i++) {
      const devid = reply[`row_${i}_devid`];
      rows.push({
        fid: Number(reply[`row_${i}_fid`]),
        evcode: reply[`row_${i}_evcode`]!,
        ...(devid !== undefined && { devid: Number(devid) }),
      });
      after = Number(reply[`row_${i}_logid`]);
    }
    if (count < 100) return rows;
  }
}

/** A new run from fid 0 with an empty log. */
async function freshRun(args = ''): Promise<void> {
  await cluster.ok('fsck_stop');
  await cluster.ok('fsck_clearlog');
  await cluster.ok('fsck_reset');
  await cluster.ok(`fsck_start${args ? ` ${args}` : ''}`);
}

/** The run has queued everything and no fid of `files` waits in the fsck queue. */
function runFinished(files: readonly StoredFile[], timeoutMs = 25_000): Promise<true> {
  return eventually(
    cluster,
    async () => {
      if ((await cluster.ok('fsck_status')).running !== '0') return undefined;
      for (const file of files) {
        const debug = await cluster.ok(`file_debug fid=${file.fid}`);
        if (Object.keys(debug).some((name) => name.startsWith('fsckqueue_'))) return undefined;
      }
      return true;
    },
    timeoutMs,
  );
}

/** Every path get_paths gives serves the original bytes. */
async function readsAreGood(file: StoredFile): Promise<boolean> {
  const paths = await cluster.ok(`get_paths domain=d&key=${file.key}&noverify=1`);
  const count = Number(paths.paths);
  if (count === 0) return false;
  for (let i = 1; i <= count; i++) {
    const response = await request(paths[`path${i}`]!);
    const body = Buffer.from(await response.body.arrayBuffer());
    if (response.statusCode !== 200 || md5(body) !== md5(file.body)) return false;
  }
  return true;
}

describe('fsck', () => {
  it('finds a corrupt and a missing copy, logs them and replaces them', async () => {
    const [flipped, missing, healthy] = await storeReplicated(3);
    const badDev = flipped!.devids[0]!;
    corrupt(badDev, flipped!.fid);
    const goneDev = missing!.devids[1]!;
    rmSync(copyPath(cluster, goneDev, missing!.fid));

    await freshRun();
    await runFinished([flipped!, missing!, healthy!]);
    const log = await fsckLog();
    expect(log).toContainEqual({ fid: flipped!.fid, evcode: 'BSUM', devid: badDev });
    expect(log).toContainEqual({ fid: flipped!.fid, evcode: 'REPL' });
    expect(log).toContainEqual({ fid: missing!.fid, evcode: 'MISS', devid: goneDev });
    expect(log).toContainEqual({ fid: missing!.fid, evcode: 'REPL' });
    expect(log.filter((row) => row.fid === healthy!.fid)).toEqual([]);
    const status = await cluster.ok('fsck_status');
    expect(status).toMatchObject({ num_BSUM: '1', num_MISS: '1', num_REPL: '2' });

    // Reads never see the corrupt bytes once fsck ran, and the copies are replaced.
    expect(await readsAreGood(flipped!)).toBe(true);
    for (const file of [flipped!, missing!]) {
      await eventually(cluster, async () => {
        const devids = await fileDevids(cluster, file.key);
        const good = devids.every(
          (devid) => copyBytes(cluster, devid, file.fid)?.toString() === file.body,
        );
        return devids.length === 2 && good ? true : undefined;
      });
      expect(await readsAreGood(file)).toBe(true);
    }
  }, 45_000);

  it('checks only the targeted device', async () => {
    const files = await storeReplicated(6);
    const target = files[0]!.devids[0]!;
    const onTarget = files.find((file) => file.devids.includes(target))!;
    const elsewhere = files.find((file) => !file.devids.includes(target));
    corrupt(target, onTarget.fid);
    if (elsewhere) corrupt(elsewhere.devids[0]!, elsewhere.fid);

    await freshRun(`devid=${target}`);
    await runFinished(files);
    const log = await fsckLog();
    expect(log).toContainEqual({ fid: onTarget.fid, evcode: 'BSUM', devid: target });
    const checked = new Set(log.map((row) => row.fid));
    for (const file of files) {
      if (!file.devids.includes(target)) expect(checked.has(file.fid)).toBe(false);
    }
    // Leave no corrupt copy behind for the next test.
    if (elsewhere) {
      await freshRun(`devid=${elsewhere.devids[0]}`);
      await runFinished(files);
    }
  }, 45_000);

  it('does not stall on a device that is down', async () => {
    const files = await storeReplicated(2);
    const down = files[0]!.devids[0]!;
    const host = `s${[...cluster.nodes].indexOf(cluster.deviceNode.get(down)!) + 1}`;
    await cluster.ok(`set_state host=${host}&device=${down}&state=down`);
    try {
      await freshRun();
      await runFinished(files);
      const log = await fsckLog();
      expect(log).toContainEqual({ fid: files[0]!.fid, evcode: 'SKIP', devid: down });
      // The copy on the down device is kept: it is unknown, not bad.
      expect(await fileDevids(cluster, files[0]!.key)).toContain(down);
    } finally {
      await cluster.ok(`set_state host=${host}&device=${down}&state=alive`);
    }
  }, 45_000);
});
