import { hostname as osHostname } from 'node:os';
import type { Logger } from 'pino';
import { type MetaStore, openMetaStore } from '../meta/index.js';
import { type DbRequestScope, gateMetaStore, MetaGate } from '../meta/meta-gate.js';
import { BackgroundWorkers } from '../workers/background-workers.js';
import type { WorkerClock } from '../workers/runner.js';
import { ClusterView } from './cluster-view.js';
import { DeviceObservations } from './device-observations.js';
import { Monitor } from './monitor.js';
import { NodeClient } from './node-client.js';
import { PlannerStatisticsWatch, STATISTICS_CHECK_INTERVAL_MS } from './planner-statistics.js';
import { UrlSigner } from './url-signer.js';

/** The settings command handlers read; a frozen subset of the tracker's configuration. */
export interface ServiceOptions {
  readonly dbUrl: string;
  /** The login for a database URL that names none (config `db_user`, `db_pass`). */
  readonly dbUser?: string;
  readonly dbPass?: string;
  readonly noSchemaCheck?: boolean;
  readonly hostname?: string;
  /** mindevcount of a domain's synthesized `default` class (behaviour.md §14). */
  readonly defaultMindevcount?: number;
  /** MiB a device must keep free to receive new files. */
  readonly minFreeSpaceMb?: number;
  readonly nodeTimeoutMs?: number;
  readonly connTimeoutMs?: number;
  readonly mogstoredStreamPort?: number;
  /** Copies go node to node where the nodes can (config `copies_between_nodes`). */
  readonly copiesBetweenNodes?: boolean;
  /** Copies read their source from its `http_get_port` (config `repl_use_get_port`). */
  readonly replUseGetPort?: boolean;
  /** Milliseconds between monitor rounds (2.5 s in the original). */
  readonly monitorIntervalMs?: number;
  /** Milliseconds between looks for lookup tables without planner statistics (PostgreSQL). */
  readonly statisticsCheckIntervalMs?: number;
  /** Runs the replicate, delete and reaper workers (config `job_master`, default on). */
  readonly jobMaster?: boolean;
  readonly logger?: Logger;
  /** The tracker's one bounded database pool (architecture.md §5). */
  readonly db?: DatabaseLimits;
  /** Signs storage URLs with this secret (config `secret`, docs/security.md). */
  readonly secret?: string;
  /** How long a signed URL stays valid (config `secret_expiry`). */
  readonly secretExpirySeconds?: number;
  /** Counts an invariant the background workers found broken (they log it themselves). */
  readonly onInvariantViolation?: () => void;
  /** The background workers' pauses (tests). */
  readonly workerClock?: WorkerClock;
}

export interface DatabaseLimits {
  /** Connections in the pool (`db_pool_size`). */
  readonly poolSize: number;
  /** The longest wait for a free connection (`db_queue_timeout`). */
  readonly queueTimeoutMs: number;
  /** Calls that may wait for a connection (`db_queue_limit`). */
  readonly queueLimit: number;
  /** Opening one connection may take this long (PostgreSQL, MySQL). */
  readonly connectTimeoutMs: number;
  /** The server cancels statements running longer (PostgreSQL). */
  readonly statementTimeoutMs: number;
  /** Hot statements prepared once per connection (`db_prepared_statements`, PostgreSQL). */
  readonly preparedStatements?: boolean;
}

export type ResolvedServiceOptions = Required<
  Omit<
    ServiceOptions,
    | 'dbUser'
    | 'dbPass'
    | 'noSchemaCheck'
    | 'logger'
    | 'monitorIntervalMs'
    | 'statisticsCheckIntervalMs'
    | 'jobMaster'
    | 'db'
    | 'secret'
    | 'secretExpirySeconds'
    | 'onInvariantViolation'
    | 'workerClock'
  >
>;

/**
 * Everything a command handler may use. Built once per tracker by `createTrackerServices`.
 */
export interface TrackerServices {
  readonly hostname: string;
  readonly options: ResolvedServiceOptions;
  readonly meta: MetaStore;
  readonly cluster: ClusterView;
  readonly observations: DeviceObservations;
  readonly nodes: NodeClient;
  readonly monitor: Monitor;
  /** Absent when the job master is off (behaviour.md §1). */
  readonly workers?: BackgroundWorkers;
  /** The gate in front of the database pool (absent without `db` limits); for metrics. */
  readonly dbGate?: MetaGate;
  readonly logger: Logger | undefined;
  /** The highest fid when the tracker started; explicit fids must be above it (§5.1). */
  readonly startupMaxFid: number;
  /** Unix time in seconds; injectable for tests. */
  nowSeconds(): number;
  /**
   * These services with `meta` working on behalf of one client request: its calls obey
   * the request's deadline and cancellation and may use every database slot, where
   * background work gets half (architecture.md §5).
   */
  forRequest?(scope: DbRequestScope): TrackerServices;
}

/** Signed URLs stay valid an hour unless `secret_expiry` says otherwise. */
export const DEFAULT_SECRET_EXPIRY_SECONDS = 3600;

export interface TrackerServicesHandle extends TrackerServices {
  close(): Promise<void>;
}

export async function createTrackerServices(
  options: ServiceOptions,
): Promise<TrackerServicesHandle> {
  const limits = options.db;
  const store = await openMetaStore(options.dbUrl, {
    noSchemaCheck: options.noSchemaCheck ?? false,
    ...(options.dbUser !== undefined && { user: options.dbUser }),
    // No db_pass leaves the driver its own sources (PGPASSWORD, ~/.pgpass).
    ...(options.dbPass && { password: options.dbPass }),
    ...(limits && {
      poolSize: limits.poolSize,
      connectTimeoutMs: limits.connectTimeoutMs,
      statementTimeoutMs: limits.statementTimeoutMs,
      ...(limits.preparedStatements !== undefined && {
        preparedStatements: limits.preparedStatements,
      }),
    }),
  });
  // Everything in this tracker (commands, monitor, workers) shares the pool through one
  // gate; SQLite runs in-process on one connection, where the gate only bounds the queue.
  const dbGate = limits
    ? new MetaGate({
        size: store.engine === 'sqlite' ? 1 : limits.poolSize,
        queueLimit: limits.queueLimit,
        queueTimeoutMs: limits.queueTimeoutMs,
        abandonRunning: store.engine !== 'sqlite',
      })
    : undefined;
  const meta = dbGate ? gateMetaStore(store, dbGate) : store;
  const resolved: ResolvedServiceOptions = Object.freeze({
    dbUrl: options.dbUrl,
    hostname: options.hostname ?? osHostname(),
    defaultMindevcount: options.defaultMindevcount ?? 2,
    minFreeSpaceMb: options.minFreeSpaceMb ?? 100,
    nodeTimeoutMs: options.nodeTimeoutMs ?? 2000,
    connTimeoutMs: options.connTimeoutMs ?? 2000,
    mogstoredStreamPort: options.mogstoredStreamPort ?? 7501,
    copiesBetweenNodes: options.copiesBetweenNodes ?? true,
    replUseGetPort: options.replUseGetPort ?? false,
  });
  const cluster = new ClusterView(meta);
  try {
    await cluster.refresh();
  } catch (error) {
    await meta.close();
    throw error;
  }
  const statistics = new PlannerStatisticsWatch(meta, options.logger);
  await statistics.check();
  const startupMaxFid = await meta.maxFileFid();
  const nowSeconds = () => Math.floor(Date.now() / 1000);
  const observations = new DeviceObservations();
  const nodes = new NodeClient(
    options.secret
      ? new UrlSigner({
          secret: options.secret,
          expirySeconds: options.secretExpirySeconds ?? DEFAULT_SECRET_EXPIRY_SECONDS,
        })
      : undefined,
  );
  const monitor = new Monitor({
    meta,
    cluster,
    observations,
    nodes,
    connTimeoutMs: resolved.connTimeoutMs,
    nowSeconds,
    ...(options.monitorIntervalMs !== undefined && { roundIntervalMs: options.monitorIntervalMs }),
    ...(options.logger && { logger: options.logger }),
  });
  monitor.start();
  const workers =
    options.jobMaster === false
      ? undefined
      : new BackgroundWorkers({
          services: {
            meta,
            cluster,
            observations,
            nodes,
            nowSeconds,
            options: resolved,
            logger: options.logger,
            ...(options.onInvariantViolation && {
              countInvariantViolation: options.onInvariantViolation,
            }),
          },
          startAfter: monitor.firstRound(),
          ...(options.workerClock && { clock: options.workerClock }),
        });
  workers?.start();
  if (meta.engine === 'postgres') {
    statistics.start(options.statisticsCheckIntervalMs ?? STATISTICS_CHECK_INTERVAL_MS);
  }
  const services: TrackerServicesHandle = {
    hostname: resolved.hostname,
    options: resolved,
    meta,
    cluster,
    observations,
    nodes,
    monitor,
    ...(workers && { workers }),
    ...(dbGate && { dbGate }),
    logger: options.logger,
    startupMaxFid,
    nowSeconds,
    forRequest(scope) {
      return dbGate ? { ...services, meta: gateMetaStore(store, dbGate, scope) } : services;
    },
    async close() {
      await workers?.stop();
      await statistics.stop();
      await monitor.stop();
      await nodes.close();
      await meta.close();
    },
  };
  return services;
}
