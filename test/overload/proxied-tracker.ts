import { randomBytes } from 'node:crypto';
import { backends } from '../helpers/meta-backends.js';
import { TrackerConnection } from '../helpers/tracker-connection.js';
import { type SpawnedTracker, spawnTracker } from '../helpers/tracker-process.js';
import { okPairs } from '../helpers/transcripts.js';
import { startTcpProxy, type TcpProxy } from './tcp-proxy.js';

const PG_PORT = 5432;

export interface StoredKey {
  readonly key: string;
  readonly fid: number;
}

export interface ProxiedTracker {
  readonly tracker: SpawnedTracker;
  readonly proxy: TcpProxy;
  /** The database's URL as the test reaches it (direct, as postgres). */
  readonly adminUrl: string;
  readonly keys: readonly StoredKey[];
  exec(statements: readonly string[]): Promise<void>;
  stop(): Promise<void>;
}

export interface ProxiedTrackerOptions {
  readonly files?: number;
  readonly args?: readonly string[];
  /** Connect as this role (created with LOGIN and rights on the database). */
  readonly role?: string;
}

/** A unique database-level name for test roles and such. */
export function uniqueName(prefix: string): string {
  return `${prefix}_${process.pid}_${randomBytes(4).toString('hex')}`;
}

/**
 * A real tracker process on a fresh PostgreSQL database reached through a TCP proxy, with
 * domain `d`, one host and device, and `files` keys (`k<i>`, fid i) written straight into
 * the tables: no storage node is needed for `get_paths noverify=1`.
 */
export async function startProxiedTracker(
  options: ProxiedTrackerOptions = {},
): Promise<ProxiedTracker> {
  const backend = backends().find((candidate) => candidate.name === 'postgres');
  if (!backend) throw new Error('the postgres backend is not enabled (META_BACKENDS)');
  const database = await backend.freshDatabase();
  const exec = (statements: readonly string[]) => backend.exec(database.url, statements);
  const proxy = await startTcpProxy(PG_PORT);
  let tracker: SpawnedTracker | undefined;
  try {
    const url = new URL(database.url);
    url.port = String(proxy.port);
    if (options.role) url.username = options.role;
    // Owning the database lets the role create the schema (PostgreSQL 15 grants CREATE on
    // public to the database owner only).
    if (options.role) {
      const name = url.pathname.slice(1);
      await backend.exec(database.url, [`ALTER DATABASE ${name} OWNER TO ${options.role}`]);
    }
    tracker = await spawnTracker({ db: url.toString(), args: options.args ?? [] });
    const connection = await TrackerConnection.open(tracker.port);
    try {
      for (const line of [
        'create_domain domain=d',
        'create_host host=h1&ip=127.0.0.1&port=7500&status=alive',
        'create_device hostname=h1&devid=1',
      ]) {
        const reply = await connection.request(line);
        if (!okPairs(reply)) throw new Error(`${line} -> ${reply}`);
      }
    } finally {
      connection.close();
    }
    const files = options.files ?? 50;
    await exec([
      `INSERT INTO file (fid, dmid, dkey, length, classid, devcount)
         SELECT g, (SELECT dmid FROM domain WHERE namespace = 'd'), 'k' || g, 100, 0, 1
         FROM generate_series(1, ${files}) AS g`,
      `INSERT INTO file_on (fid, devid) SELECT g, 1 FROM generate_series(1, ${files}) AS g`,
    ]);
    const keys = Array.from({ length: files }, (_, i) => ({ key: `k${i + 1}`, fid: i + 1 }));
    return {
      tracker,
      proxy,
      adminUrl: database.url,
      keys,
      exec,
      async stop() {
        proxy.resume();
        await tracker?.stop();
        await proxy.close();
        await database.drop();
      },
    };
  } catch (error) {
    await tracker?.stop();
    await proxy.close();
    await database.drop();
    throw error;
  }
}

/** `k12` → the 10-digit fid file name that every path of fid 12 ends with. */
export function fidFileName(fid: number): string {
  return `${String(fid).padStart(10, '0')}.fid`;
}
