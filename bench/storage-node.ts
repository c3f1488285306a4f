/**
 * Storage node vs. a plain node:http file server with the same durability
 * (src/cli/bench/raw-file-server.ts, the same yardstick as `mogile bench`), side by side on this machine:
 *   - 64 MiB PUT and GET throughput (target: mogile >= 90% of plain)
 *   - 4 KiB PUT and GET at concurrency 8 and 32 (target: >= 80% of plain's request rate)
 *   - RSS of the node while a 1 GiB file streams in and out (target: flat)
 * Both servers run as child processes; this process is the undici load client.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { Readable } from 'node:stream';
import { Pool, request } from 'undici';
import { storageNodeArgs } from '../src/cli/bench/local-cluster.js';
import { cpuSeconds } from '../src/cli/bench/process-probe.js';
import { fidPath } from '../src/protocol/fid-path.js';

const ROOT = resolve(import.meta.dirname, '..');
const MIB = 1024 * 1024;
const BIG_ROUNDS = 8;
const SMALL_SECONDS = 3;
const SMALL_GET_FILES = 500;

interface Server {
  readonly name: string;
  readonly base: string;
  readonly pid: number;
  readonly child: ChildProcess;
  readonly docroot: string;
}

async function startServer(name: 'plain' | 'mogile'): Promise<Server> {
  const docroot = mkdtempSync(join(tmpdir(), `mogile-bench-${name}-`));
  mkdirSync(join(docroot, 'dev1'));
  const args =
    name === 'plain'
      ? [join(ROOT, 'dist', 'cli', 'bench', 'raw-file-server.js'), docroot]
      : storageNodeArgs(docroot);
  const child = spawn(process.execPath, args, {
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, MOGILE_LOG_LEVEL: 'warn' },
  });
  const port = await new Promise<number>((resolvePort, reject) => {
    createInterface({ input: child.stdout! }).on('line', (line) => {
      const match = /^listening on 127\.0\.0\.1:(\d+) \(http\)$/.exec(line);
      if (match) resolvePort(Number(match[1]));
    });
    child.once('exit', (code) => reject(new Error(`${name} exited with ${code}`)));
  });
  return { name, base: `http://127.0.0.1:${port}`, pid: child.pid!, child, docroot };
}

async function stopServer(server: Server): Promise<void> {
  const exited = new Promise((resolveExit) => server.child.once('exit', resolveExit));
  server.child.kill('SIGTERM');
  await exited;
  rmSync(server.docroot, { recursive: true, force: true });
}

function rssMiB(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+)/.exec(status)![1]) / 1024;
}

async function putBig(server: Server, pool: Pool, body: Buffer, round: number): Promise<number> {
  const started = performance.now();
  const response = await pool.request({
    path: fidPath(1, 1_000_000 + round),
    method: 'PUT',
    body,
    headers: { 'content-length': String(body.length) },
  });
  await response.body.dump();
  if (response.statusCode !== 200) throw new Error(`${server.name} PUT ${response.statusCode}`);
  return performance.now() - started;
}

async function getBig(server: Server, pool: Pool, round: number, size: number): Promise<number> {
  const started = performance.now();
  const response = await pool.request({ path: fidPath(1, 1_000_000 + round), method: 'GET' });
  let received = 0;
  for await (const chunk of response.body) received += (chunk as Buffer).length;
  if (received !== size) throw new Error(`${server.name} GET got ${received} bytes`);
  return performance.now() - started;
}

interface Big {
  readonly put: number;
  readonly get: number;
  /** The server's CPU milliseconds (all threads) per 64 MiB PUT. */
  readonly putCpuMs: number;
}

/**
 * MiB/s over all rounds for each server. Rounds alternate between the servers, so a burst
 * of noise on this shared machine hits both rather than one.
 */
async function bigThroughput(servers: readonly Server[], body: Buffer): Promise<Big[]> {
  const pools = servers.map((server) => new Pool(server.base, { connections: 1 }));
  const putMs = servers.map(() => 0);
  const getMs = servers.map(() => 0);
  const putCpu = servers.map(() => 0);
  for (let round = 0; round < BIG_ROUNDS; round++) {
    for (const [i, server] of servers.entries()) {
      const cpuBefore = cpuSeconds(server.pid);
      putMs[i]! += await putBig(server, pools[i]!, body, round);
      putCpu[i]! += cpuSeconds(server.pid) - cpuBefore;
    }
  }
  for (let round = 0; round < BIG_ROUNDS; round++) {
    for (const [i, server] of servers.entries()) {
      getMs[i]! += await getBig(server, pools[i]!, round, body.length);
    }
  }
  await Promise.all(pools.map((pool) => pool.close()));
  const mib = (BIG_ROUNDS * body.length) / MIB;
  return servers.map((_, i) => ({
    put: mib / (putMs[i]! / 1000),
    get: mib / (getMs[i]! / 1000),
    putCpuMs: (putCpu[i]! * 1000) / BIG_ROUNDS,
  }));
}

/** Requests per second with `concurrency` clients for SMALL_SECONDS. */
async function smallRate(server: Server, method: 'PUT' | 'GET', concurrency: number, body: Buffer) {
  const pool = new Pool(server.base, { connections: concurrency, pipelining: 1 });
  const deadline = performance.now() + SMALL_SECONDS * 1000;
  let done = 0;
  let next = 0;
  const started = performance.now();
  const worker = async () => {
    while (performance.now() < deadline) {
      const n = next++;
      const path =
        method === 'PUT'
          ? fidPath(1, 2_000_000 + n + concurrency * 1_000_000)
          : fidPath(1, 3_000_000 + (n % SMALL_GET_FILES));
      const response = await pool.request({
        path,
        method,
        body: method === 'PUT' ? body : undefined,
        headers: method === 'PUT' ? { 'content-length': String(body.length) } : {},
      });
      await response.body.dump();
      if (response.statusCode !== 200)
        throw new Error(`${server.name} ${method} ${response.statusCode}`);
      done++;
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  const seconds = (performance.now() - started) / 1000;
  await pool.close();
  return done / seconds;
}

async function seedSmallFiles(server: Server, body: Buffer): Promise<void> {
  const pool = new Pool(server.base, { connections: 8 });
  for (let n = 0; n < SMALL_GET_FILES; n += 8) {
    await Promise.all(
      Array.from({ length: 8 }, async (_, i) => {
        const response = await pool.request({
          path: fidPath(1, 3_000_000 + n + i),
          method: 'PUT',
          body,
          headers: { 'content-length': String(body.length) },
        });
        await response.body.dump();
      }),
    );
  }
  await pool.close();
}

/** Streams `size` bytes in and out while sampling the server's RSS. */
async function rssWhileStreaming(server: Server, size: number) {
  const samples: number[] = [rssMiB(server.pid)];
  const sampler = setInterval(() => samples.push(rssMiB(server.pid)), 50);
  const chunk = Buffer.alloc(MIB, 'r');
  const path = fidPath(1, 4_000_000);
  async function* generate() {
    for (let sent = 0; sent < size; sent += chunk.length) yield chunk;
  }
  const put = await request(`${server.base}${path}`, {
    method: 'PUT',
    body: Readable.from(generate()),
    headers: { 'content-length': String(size) },
  });
  await put.body.dump();
  const afterPut = samples.length;
  const get = await request(`${server.base}${path}`);
  let received = 0;
  for await (const part of get.body) received += (part as Buffer).length;
  clearInterval(sampler);
  if (put.statusCode !== 200 || received !== size) throw new Error('1 GiB round trip failed');
  return {
    before: samples[0]!,
    maxPut: Math.max(...samples.slice(0, afterPut)),
    maxGet: Math.max(...samples.slice(afterPut)),
  };
}

function line(label: string, plain: number, ours: number, unit: string, target: number) {
  const ratio = ours / plain;
  const mark = ratio >= target ? 'ok' : 'BELOW TARGET';
  process.stdout.write(
    `| ${label.padEnd(24)} | ${plain.toFixed(1).padStart(9)} ${unit} | ${ours.toFixed(1).padStart(9)} ${unit} | ${(ratio * 100).toFixed(0).padStart(4)}% | >= ${target * 100}% ${mark} |\n`,
  );
}

/** What MD5 and SHA-1 of this body cost on this machine, measured here. */
function hashCostMs(body: Buffer): string {
  const started = performance.now();
  createHash('md5').update(body).digest();
  createHash('sha1').update(body).digest();
  return (performance.now() - started).toFixed(0);
}

export async function run(): Promise<void> {
  const plain = await startServer('plain');
  const mogile = await startServer('mogile');
  try {
    process.stdout.write('| test | plain node:http | mogile storage | ratio | target |\n');
    process.stdout.write('|---|---|---|---|---|\n');
    const big = Buffer.alloc(64 * MIB);
    for (let i = 0; i < big.length; i += 4096) big[i] = i & 0xff;
    const [plainBig, oursBig] = (await bigThroughput([plain, mogile], big)) as [Big, Big];
    line('64 MiB PUT', plainBig.put, oursBig.put, 'MiB/s', 0.9);
    line('64 MiB GET', plainBig.get, oursBig.get, 'MiB/s', 0.9);

    const small = Buffer.alloc(4096, 's');
    await seedSmallFiles(plain, small);
    await seedSmallFiles(mogile, small);
    for (const method of ['PUT', 'GET'] as const) {
      for (const concurrency of [8, 32]) {
        const plainRate = await smallRate(plain, method, concurrency, small);
        const oursRate = await smallRate(mogile, method, concurrency, small);
        line(`4 KiB ${method} c=${concurrency}`, plainRate, oursRate, 'req/s', 0.8);
      }
    }

    process.stdout.write(
      `\nCPU per 64 MiB PUT (all threads): plain ${plainBig.putCpuMs.toFixed(0)} ms, ` +
        `mogile ${oursBig.putCpuMs.toFixed(0)} ms (MD5 + SHA-1 of 64 MiB alone: ${hashCostMs(big)} ms)\n`,
    );

    const rss = await rssWhileStreaming(mogile, 1024 * MIB);
    process.stdout.write(
      `\nmogile RSS while 1 GiB streams: ${rss.before.toFixed(0)} MiB before, ` +
        `max ${rss.maxPut.toFixed(0)} MiB during PUT, max ${rss.maxGet.toFixed(0)} MiB during GET\n`,
    );
  } finally {
    await stopServer(plain);
    await stopServer(mogile);
  }
}
