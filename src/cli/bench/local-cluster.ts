import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MogileAdmin } from '../../client/mogile-admin.js';
import { type BenchProcess, mainArgs, spawnListening } from './mogile-process.js';

export interface LocalClusterOptions {
  /** A database URL; default: a SQLite file in the cluster's temp folder. */
  readonly db?: string | undefined;
  readonly nodes: number;
  readonly domain: string;
  readonly className: string;
  readonly mindevcount: number;
}

export interface LocalCluster {
  readonly trackerAddress: string;
  readonly tracker: BenchProcess;
  readonly nodes: readonly BenchProcess[];
  stop(): Promise<void>;
}

/**
 * A tracker and `nodes` storage nodes (one device each) as separate processes under one
 * temp folder, registered and writeable. `MOGILE_TRACKER_NODE_ARGS` and
 * `MOGILE_STORAGE_NODE_ARGS` add node flags to the tracker or the storage nodes (e.g.
 * `--cpu-prof --cpu-prof-dir=/tmp/prof`); `MOGILE_TRACKER_CONFIG` adds lines to the
 * tracker's configuration file, separated by `;` (e.g. `copies_between_nodes = 0`).
 */
export async function startLocalCluster(options: LocalClusterOptions): Promise<LocalCluster> {
  const dir = mkdtempSync(join(tmpdir(), 'mogile-bench-'));
  const nodes: BenchProcess[] = [];
  let tracker: BenchProcess | undefined;
  const stop = async () => {
    await tracker?.stop();
    for (const node of nodes) await node.stop();
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    for (let devid = 1; devid <= options.nodes; devid++) {
      const docroot = join(dir, `node${devid}`);
      mkdirSync(join(docroot, `dev${devid}`), { recursive: true });
      nodes.push(await startStorageProcess(docroot, devid));
    }
    tracker = await startTrackerProcess(dir, options.db ?? `sqlite:${join(dir, 'mogile.db')}`);
    const trackerAddress = tracker.addresses.get('')!;
    await register(trackerAddress, nodes, options);
    return { trackerAddress, tracker, nodes, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

/** `node … main.js storage` serving `docroot` on free local ports, without a config file. */
export function storageNodeArgs(docroot: string): string[] {
  return mainArgs(
    [
      'storage',
      '--skipconfig',
      '--listen',
      '127.0.0.1:0',
      '--mgmt-listen',
      '127.0.0.1:0',
      '--docroot',
      docroot,
    ],
    nodeFlagsFrom('MOGILE_STORAGE_NODE_ARGS'),
  );
}

/** Node flags from an environment variable, separated by spaces. */
function nodeFlagsFrom(variable: string): string[] {
  return process.env[variable]?.split(' ').filter(Boolean) ?? [];
}

function startStorageProcess(docroot: string, devid: number): Promise<BenchProcess> {
  return spawnListening({
    role: `storage ${devid}`,
    args: storageNodeArgs(docroot),
    waitFor: ['http', 'side channel'],
  });
}

function startTrackerProcess(dir: string, db: string): Promise<BenchProcess> {
  // In a file rather than on the command line: a tracker without an HTTP side only warns
  // about an unknown key in its file, and a fixed port would clash with other clusters.
  const config = join(dir, 'mogilefsd.conf');
  const extra = process.env['MOGILE_TRACKER_CONFIG']?.split(';').map((line) => line.trim()) ?? [];
  writeFileSync(config, ['http_listen = 127.0.0.1:0', ...extra, ''].join('\n'));
  return spawnListening({
    role: 'tracker',
    args: mainArgs(
      ['tracker', '-c', config, '--listen', '127.0.0.1:0', '--db', db],
      nodeFlagsFrom('MOGILE_TRACKER_NODE_ARGS'),
    ),
    waitFor: [''],
  });
}

async function register(
  trackerAddress: string,
  nodes: readonly BenchProcess[],
  options: LocalClusterOptions,
): Promise<void> {
  const admin = new MogileAdmin({ trackers: [trackerAddress], timeoutMs: 30_000 });
  try {
    await admin.createDomain(options.domain);
    await admin.createClass(options.domain, options.className, {
      mindevcount: options.mindevcount,
    });
    for (const [index, node] of nodes.entries()) {
      const devid = index + 1;
      const port = Number(node.addresses.get('http')!.split(':').pop());
      await admin.createHost(`bench${devid}`, { ip: '127.0.0.1', port, status: 'alive' });
      await admin.createDevice({ hostname: `bench${devid}`, devid });
    }
    for (let round = 0; round < 30; round++) {
      // clear_cache replies after a monitor round, so this loop needs no sleep.
      await admin.clearCache();
      const devices = await admin.getDevices();
      const ready = devices.filter((d) => d.observedState === 'writeable' && d.mbTotal);
      if (ready.length === nodes.length) return;
    }
    throw new Error('the storage devices did not become writeable');
  } finally {
    await admin.close();
  }
}
