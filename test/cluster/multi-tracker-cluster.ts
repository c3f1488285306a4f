import { request } from 'undici';
import { waitForWriteable } from '../helpers/cluster.js';
import type { Backend } from '../helpers/meta-backends.js';
import { TrackerConnection } from '../helpers/tracker-connection.js';
import { type SpawnedTracker, spawnTracker } from '../helpers/tracker-process.js';
import { okPairs } from '../helpers/transcripts.js';
import {
  makeDocroot,
  type NodeProcess,
  removeDocroot,
  startNode,
} from '../storage/node-harness.js';

/** Several `mogile tracker` processes on one database, and their storage nodes. */
export interface MultiTrackerCluster {
  readonly trackers: SpawnedTracker[];
  readonly nodes: readonly NodeProcess[];
  /** devid → index of the node (host) serving it. */
  readonly hostOf: ReadonlyMap<number, number>;
  readonly url: string;
  /** One request to tracker `index` on a fresh connection; throws unless OK. */
  ok(index: number, line: string): Promise<Record<string, string>>;
  stop(): Promise<void>;
}

/**
 * `trackers` trackers (debug logs on, so each replication attempt is logged) on a fresh
 * database of `backend`, `nodes` storage nodes with two devices each, a domain `d` and a
 * class `two` (mindevcount 2). Resolves once every tracker sees every device writeable.
 */
export async function startMultiTrackerCluster(
  backend: Backend,
  counts: { readonly trackers: number; readonly nodes: number },
): Promise<MultiTrackerCluster> {
  const nodes: NodeProcess[] = [];
  const trackers: SpawnedTracker[] = [];
  const hostOf = new Map<number, number>();
  const database = await backend.freshDatabase();
  const stop = async () => {
    for (const tracker of trackers) await tracker.stop();
    await database.drop();
    for (const node of nodes) {
      await node.stop();
      removeDocroot(node.docroot);
    }
  };
  const ok = async (index: number, line: string) => {
    const connection = await TrackerConnection.open(trackers[index]!.port);
    try {
      const reply = await connection.request(line);
      const pairs = okPairs(reply);
      if (!pairs) throw new Error(`${line} -> ${reply}`);
      return pairs;
    } finally {
      connection.close();
    }
  };
  try {
    for (let n = 0; n < counts.nodes; n++) {
      const devids = [2 * n + 1, 2 * n + 2];
      nodes.push(await startNode(makeDocroot(devids)));
      for (const devid of devids) hostOf.set(devid, n);
    }
    // The first creates the schema; the others find it.
    trackers.push(await spawnTracker({ db: database.url, args: ['--debug', '1'] }));
    const rest = Array.from({ length: counts.trackers - 1 }, () =>
      spawnTracker({ db: database.url, args: ['--debug', '1'] }),
    );
    trackers.push(...(await Promise.all(rest)));
    await ok(0, 'create_domain domain=d');
    await ok(0, 'create_class domain=d&class=two&mindevcount=2');
    for (const [n, node] of nodes.entries()) {
      await ok(0, `create_host host=s${n + 1}&ip=127.0.0.1&port=${node.http.port}&status=alive`);
    }
    for (const [devid, n] of hostOf) await ok(0, `create_device hostname=s${n + 1}&devid=${devid}`);
    for (let index = 0; index < trackers.length; index++) {
      await waitForWriteable((line) => ok(index, line), hostOf.size);
    }
    return { trackers, nodes, hostOf, url: database.url, ok, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

/** create_open + PUT + create_close on one tracker connection; returns the fid. */
export async function storeOn(
  connection: TrackerConnection,
  key: string,
  body: string,
): Promise<number> {
  const ask = async (line: string) => {
    const reply = await connection.request(line);
    const pairs = okPairs(reply);
    if (!pairs) throw new Error(`${line} -> ${reply}`);
    return pairs;
  };
  const open = await ask(`create_open domain=d&class=two&key=${key}`);
  const response = await request(open['path']!, { method: 'PUT', body });
  await response.body.dump();
  if (response.statusCode !== 200) throw new Error(`PUT answered ${response.statusCode}`);
  await ask(
    `create_close domain=d&fid=${open['fid']}&devid=${open['devid']}&path=${open['path']}` +
      `&key=${key}&size=${Buffer.byteLength(body)}`,
  );
  return Number(open['fid']);
}
