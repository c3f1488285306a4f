import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { MogileClientError } from '../client/errors.js';
import { parseTrackerAddress } from '../client/tracker-address.js';
import { TrackerConnection } from '../client/tracker-connection.js';
import { type StorageNode, startStorageNode } from '../storage/storage-node.js';
import { loadTrackerConfig } from '../tracker/config.js';
import { type RunningTracker, startTracker } from '../tracker/tracker.js';
import { startTrackerWeb } from '../web/tracker-web.js';
import type { RunningWebServer } from '../web/web-server.js';

export interface DevClusterOptions {
  readonly dataDir: string;
  readonly trackerPort: number;
  /** The HTTP side (dashboard, metrics, gateway); 0 picks a free port. */
  readonly httpPort?: number;
  readonly nodes?: number;
  readonly devicesPerNode?: number;
}

export interface DevCluster {
  readonly dataDir: string;
  readonly tracker: RunningTracker;
  readonly web: RunningWebServer | undefined;
  readonly nodes: readonly { name: string; port: number; devids: number[] }[];
  close(): Promise<void>;
}

const DOMAIN = 'default';
const REQUEST_TIMEOUT_MS = 30_000;

/**
 * A whole cluster in one process: a tracker on SQLite and storage nodes with two devices
 * each, all under one data folder, registered and ready. Restarting reuses the data; the
 * nodes get new ports, and their hosts are updated to match.
 */
export async function startDevCluster(options: DevClusterOptions): Promise<DevCluster> {
  const dataDir = resolve(options.dataDir);
  const nodeCount = options.nodes ?? 3;
  const perNode = options.devicesPerNode ?? 2;
  const storage: StorageNode[] = [];
  const nodes: { name: string; port: number; devids: number[] }[] = [];
  let tracker: RunningTracker | undefined;
  let web: RunningWebServer | undefined;
  const close = async () => {
    await web?.close();
    await tracker?.close();
    for (const node of storage) await node.close();
  };
  try {
    for (let n = 1; n <= nodeCount; n++) {
      const docroot = join(dataDir, 'storage', `node${n}`);
      const devids = Array.from({ length: perNode }, (_, i) => (n - 1) * perNode + i + 1);
      for (const devid of devids) mkdirSync(join(docroot, `dev${devid}`), { recursive: true });
      const node = await startStorageNode({
        docroot,
        httpListen: { host: '127.0.0.1', port: 0 },
        sideListen: { host: '127.0.0.1', port: 0 },
      });
      storage.push(node);
      nodes.push({ name: `node${n}`, port: node.httpAddress.port, devids });
    }
    const config = loadTrackerConfig({
      overrides: {
        listen: `127.0.0.1:${options.trackerPort}`,
        db: `sqlite:${join(dataDir, 'mogile.db')}`,
        http_listen: `127.0.0.1:${options.httpPort ?? 7002}`,
      },
    });
    tracker = await startTracker(config);
    const address = tracker.addresses[0]!;
    await registerCluster(`${address.host}:${address.port}`, nodes);
    web = await startTrackerWeb(tracker);
    return { dataDir, tracker, web, nodes, close };
  } catch (error) {
    await close();
    throw error;
  }
}

/** Creates the domain, hosts and devices (or points existing hosts at the new ports). */
async function registerCluster(
  trackerAddress: string,
  nodes: readonly { name: string; port: number; devids: number[] }[],
): Promise<void> {
  const connection = await TrackerConnection.connect(parseTrackerAddress(trackerAddress), {
    connectTimeoutMs: 5000,
  });
  const send = (command: string, args: Record<string, string | number>) =>
    connection.request(command, args, { timeoutMs: REQUEST_TIMEOUT_MS });
  const unlessExists = async (work: Promise<unknown>, code: string) => {
    try {
      await work;
    } catch (error) {
      if (!(error instanceof MogileClientError && error.code === code)) throw error;
    }
  };
  try {
    await unlessExists(send('create_domain', { domain: DOMAIN }), 'domain_exists');
    await send('update_class', { domain: DOMAIN, class: 'default', mindevcount: 2 });
    for (const node of nodes) {
      const host = { host: node.name, ip: '127.0.0.1', port: node.port, status: 'alive' };
      await unlessExists(send('create_host', host), 'host_exists');
      await send('update_host', host);
      for (const devid of node.devids) {
        await unlessExists(send('create_device', { hostname: node.name, devid }), 'existing_devid');
      }
    }
    await waitUntilWriteable(send, nodes.flatMap((node) => node.devids).length);
  } finally {
    connection.destroy('setup done');
  }
}

async function waitUntilWriteable(
  send: (command: string, args: Record<string, string | number>) => Promise<Map<string, string>>,
  deviceCount: number,
): Promise<void> {
  for (let round = 0; round < 20; round++) {
    // clear_cache replies once a monitor round is done, so this loop never sleeps.
    await send('clear_cache', {});
    const devices = await send('get_devices', {});
    let ready = 0;
    for (const [name, value] of devices) {
      if (name.endsWith('_observed_state') && value === 'writeable') ready++;
    }
    if (ready >= deviceCount) return;
  }
  throw new Error('the storage devices did not become writeable');
}
