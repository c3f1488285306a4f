import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MogileClient } from '../../src/client/mogile-client.js';
import { startCluster, type TestCluster } from '../helpers/cluster.js';
import { runMogile } from '../helpers/mogile-cli.js';

// Structure only: the machine running the tests is busy, so no figure is compared to a limit.
const BENCH_TIMEOUT_MS = 240_000;

interface Workload {
  operation: string;
  sizeBytes: number;
  concurrency: number;
  ops: number;
  opsPerSec: number;
  p50Ms: number;
  p99Ms: number;
  trackerCpuSecondsPer1000Ops?: number;
  replicationLagSeconds?: number | null;
  rawRatio?: number;
}

interface Report {
  mode: string;
  quick: boolean;
  warmup: { files: number; sizeBytes: number; concurrency: number };
  host: { loadAverageStart: number[] };
  workloads: Workload[];
  processes: { role: string; pid: number; peakRssMB: number; processCount: number }[];
  targets: { name: string; verdict: string }[];
}

let dir: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'mogile-bench-test-'));
});

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

async function bench(name: string, args: string[], trackers = ''): Promise<Report> {
  const file = join(dir, `${name}.json`);
  const run = await runMogile(trackers, ['bench', '--quick', '--json', file, ...args]);
  expect(run.code, run.stderr).toBe(0);
  expect(run.stdout).toContain('| target | goal | measured | verdict |');
  expect(run.stdout).toMatch(/after a warm-up of \d+ files;/);
  return JSON.parse(readFileSync(file, 'utf8')) as Report;
}

function expectPositiveFigures(workload: Workload): void {
  for (const figure of ['ops', 'opsPerSec', 'p50Ms', 'p99Ms'] as const) {
    expect(workload[figure], `${workload.operation} ${figure}`).toBeGreaterThan(0);
  }
}

describe('mogile bench --quick --json', () => {
  describe('against --trackers', () => {
    let cluster: TestCluster;
    beforeAll(async () => {
      cluster = await startCluster({ nodes: 2, devicesPerNode: 1, classes: { two: 2 } });
    });
    afterAll(async () => {
      await cluster?.stop();
    });

    it(
      'measures every client-side workload, and the tracker process it is given',
      async () => {
        const report = await bench(
          'remote',
          [
            '--trackers',
            cluster.trackerAddress,
            '--domain',
            'd',
            '--class',
            'two',
            '--tracker-pid',
            String(cluster.tracker.pid),
          ],
          cluster.trackerAddress,
        );
        expect(report.mode).toBe('trackers');
        expect(report.quick).toBe(true);
        expect(report.warmup).toEqual({ files: 20, sizeBytes: 4096, concurrency: 8 });
        // The warm-up's files and every measured group's are gone again.
        const client = new MogileClient({ trackers: [cluster.trackerAddress], domain: 'd' });
        try {
          expect((await client.listKeys('')).keys).toEqual([]);
        } finally {
          await client.close();
        }
        const operations = new Set(report.workloads.map((w) => w.operation));
        expect([...operations].sort()).toEqual(['delete', 'get', 'get_paths', 'store']);
        for (const workload of report.workloads) expectPositiveFigures(workload);
        for (const store of report.workloads.filter((w) => w.operation === 'store')) {
          expect(store.replicationLagSeconds).toBeGreaterThanOrEqual(0);
        }
        expect(report.processes).toHaveLength(1);
        expect(report.processes[0]).toMatchObject({ role: 'tracker', pid: cluster.tracker.pid });
        expect(report.processes[0]!.peakRssMB).toBeGreaterThan(0);
        for (const workload of report.workloads) {
          expect(workload.trackerCpuSecondsPer1000Ops).toBeGreaterThanOrEqual(0);
        }
        const rss = report.targets.find((t) => t.name === 'tracker peak RSS');
        expect(rss?.verdict).not.toBe('n/a');
        expect(report.workloads.some((w) => w.rawRatio !== undefined)).toBe(false);
      },
      BENCH_TIMEOUT_MS,
    );
  });

  it('refuses a --tracker-pid that is not a process or without --trackers, and a bad --warmup', async () => {
    const notANumber = await runMogile('', [
      'bench',
      '--trackers',
      '127.0.0.1:1',
      '--tracker-pid',
      'x',
    ]);
    expect(notANumber.code).toBe(1);
    expect(notANumber.stderr).toContain('--tracker-pid must be a process id');
    const alone = await runMogile('', ['bench', '--tracker-pid', String(process.pid)]);
    expect(alone.code).toBe(1);
    expect(alone.stderr).toContain('--tracker-pid goes with --trackers');
    for (const warmup of ['-1', '1.5', 'many']) {
      const refused = await runMogile('', ['bench', '--quick', '--warmup', warmup]);
      expect(refused.code).toBe(1);
      expect(refused.stderr).toContain('--warmup must be a whole number of files');
    }
  });

  it(
    'starts its own cluster and raw server, with ratios and process probes',
    async () => {
      const report = await bench('local', ['--warmup', '0']);
      expect(report.mode).toBe('local');
      expect(report.warmup.files).toBe(0);
      expect(report.host.loadAverageStart).toHaveLength(3);
      const operations = new Set(report.workloads.map((w) => w.operation));
      expect([...operations].sort()).toEqual([
        'delete',
        'get',
        'get_paths',
        'raw_get',
        'raw_put',
        'store',
      ]);
      for (const workload of report.workloads) {
        expectPositiveFigures(workload);
        if (workload.operation === 'store' || workload.operation === 'get') {
          expect(workload.rawRatio).toBeGreaterThan(0);
        }
        if (!workload.operation.startsWith('raw_')) {
          expect(workload.trackerCpuSecondsPer1000Ops).toBeGreaterThanOrEqual(0);
        }
      }
      expect(report.processes.map((p) => p.role)).toEqual([
        'tracker',
        'storage 1',
        'storage 2',
        'storage 3',
        'raw server',
      ]);
      for (const process of report.processes) {
        expect(process.peakRssMB).toBeGreaterThan(0);
        // Ours are single processes (worker threads are not processes).
        expect(process.processCount).toBe(1);
      }
      expect(report.targets.length).toBeGreaterThanOrEqual(8);
      for (const target of report.targets)
        expect(['PASS', 'MISS', 'n/a']).toContain(target.verdict);
    },
    BENCH_TIMEOUT_MS,
  );
});
