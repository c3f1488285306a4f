import {
  makeDocroot,
  type NodeProcess,
  removeDocroot,
  startNode,
} from '../storage/node-harness.js';
import type { Backend } from './meta-backends.js';
import { TrackerConnection } from './tracker-connection.js';
import { type SpawnedTracker, type SpawnTrackerOptions, spawnTracker } from './tracker-process.js';
import { okPairs } from './transcripts.js';

export interface ClusterOptions {
  readonly nodes?: number;
  readonly devicesPerNode?: number;
  readonly tracker?: SpawnTrackerOptions;
  /** Classes to create in domain `d`, e.g. `{ two: 2 }`. */
  readonly classes?: Record<string, number>;
  /** The metadata engine: a fresh database of this backend, dropped by stop(). */
  readonly backend?: Backend;
  /** Extra `mogile storage` arguments for every node, e.g. `['--secret', '…']`. */
  readonly nodeArgs?: readonly string[];
  /** A command prefix for node `index` (e.g. `unshare … sh -c 'mount …; exec "$0" "$@"'`). */
  readonly nodeCommand?: (index: number, docroot: string) => string[] | undefined;
  /** How many devices must turn writeable before the cluster is ready (default: all). */
  readonly writeableDevices?: number;
}

export interface TestCluster {
  readonly tracker: SpawnedTracker;
  readonly nodes: readonly NodeProcess[];
  /** devid → the node that serves it. */
  readonly deviceNode: ReadonlyMap<number, NodeProcess>;
  readonly trackerAddress: string;
  /** The database URL, when the cluster runs on a `backend`'s fresh database. */
  readonly databaseUrl: string | undefined;
  readonly domain: string;
  /** Sends one request on a shared admin connection; returns the raw reply line. */
  request(line: string): Promise<string>;
  ok(line: string): Promise<Record<string, string>>;
  stop(): Promise<void>;
}

/**
 * A real tracker (SQLite) and `nodes` storage nodes, each with `devicesPerNode` devices,
 * registered as hosts s1..sN (alive) with devids numbered from 1, a domain `d` and the
 * given classes; resolves when the tracker's monitor sees every device writeable.
 */
export async function startCluster(options: ClusterOptions = {}): Promise<TestCluster> {
  const nodeCount = options.nodes ?? 3;
  const perNode = options.devicesPerNode ?? 2;
  const nodes: NodeProcess[] = [];
  const deviceNode = new Map<number, NodeProcess>();
  let tracker: SpawnedTracker | undefined;
  let connection: TrackerConnection | undefined;
  let database: { url: string; drop(): Promise<void> } | undefined;
  const stop = async () => {
    connection?.close();
    await tracker?.stop();
    await database?.drop();
    for (const node of nodes) {
      await node.stop();
      removeDocroot(node.docroot);
    }
  };
  try {
    for (let n = 0; n < nodeCount; n++) {
      const devids = Array.from({ length: perNode }, (_, i) => n * perNode + i + 1);
      const docroot = makeDocroot(devids);
      const command = options.nodeCommand?.(n, docroot);
      const node = await startNode(docroot, [...(options.nodeArgs ?? [])], {
        ...(command && { command }),
      });
      nodes.push(node);
      for (const devid of devids) deviceNode.set(devid, node);
    }
    database = await options.backend?.freshDatabase();
    tracker = await spawnTracker({
      ...options.tracker,
      ...(database && { db: database.url }),
    });
    connection = await TrackerConnection.open(tracker.port);
    const conn = connection;
    const ok = async (line: string) => {
      const reply = await conn.request(line);
      const pairs = okPairs(reply);
      if (!pairs) throw new Error(`${line} -> ${reply}`);
      return pairs;
    };
    await ok('create_domain domain=d');
    for (const [name, mindevcount] of Object.entries(options.classes ?? {})) {
      await ok(`create_class domain=d&class=${name}&mindevcount=${mindevcount}`);
    }
    for (const [n, node] of nodes.entries()) {
      await ok(`create_host host=s${n + 1}&ip=127.0.0.1&port=${node.http.port}&status=alive`);
    }
    for (const [devid, node] of deviceNode) {
      await ok(`create_device hostname=s${nodes.indexOf(node) + 1}&devid=${devid}`);
    }
    await waitForWriteable(ok, options.writeableDevices ?? deviceNode.size);
    return {
      tracker,
      nodes,
      deviceNode,
      trackerAddress: `127.0.0.1:${tracker.port}`,
      databaseUrl: database?.url,
      domain: 'd',
      request: (line) => conn.request(line),
      ok,
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}

/** Waits until a tracker's monitor sees `count` devices writeable with known usage. */
export async function waitForWriteable(
  ok: (line: string) => Promise<Record<string, string>>,
  count: number,
): Promise<void> {
  for (let round = 0; round < 50; round++) {
    // clear_cache runs a monitor round and replies when it is done: no sleeping.
    await ok('clear_cache');
    const devices = await ok('get_devices');
    const ready = Object.entries(devices).filter(
      ([name, value]) => name.endsWith('_observed_state') && value === 'writeable',
    ).length;
    const sized = Object.entries(devices).filter(
      ([name, value]) => name.endsWith('_mb_total') && value !== '',
    ).length;
    if (ready >= count && sized >= count) return;
  }
  throw new Error('devices never became writeable');
}
