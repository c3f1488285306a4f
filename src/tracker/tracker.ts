import type { DestinationStream, Logger } from 'pino';
import { AdminCommands } from './admin-commands.js';
import { buildCommandRegistry } from './commands/index.js';
import type { ListenAddress, TrackerConfig } from './config.js';
import { redactDatabaseUrl } from './db-dsn.js';
import { createDispatcher } from './dispatch.js';
import { createTrackerLogger } from './logger.js';
import { QueryStats } from './query-stats.js';
import { RecentLog } from './recent-log.js';
import { MAX_LINE_BYTES, TrackerServer, WRITE_STALL_MS } from './server.js';
import {
  createTrackerServices,
  type TrackerServices,
  type TrackerServicesHandle,
} from './services.js';
import { WatchHub } from './watch-hub.js';

/**
 * PostgreSQL cancels any statement running longer. Requests stop waiting for theirs at
 * their deadline; this bound frees the connection of a runaway one, with room for the
 * background workers' larger statements.
 */
const STATEMENT_TIMEOUT_MS = 10_000;

export interface StartTrackerOptions {
  /** Where JSON log lines go; stderr by default. */
  readonly logDestination?: DestinationStream;
}

export interface RunningTracker {
  /** The bound addresses, in the order of `config.listen` (port 0 resolved). */
  readonly addresses: readonly ListenAddress[];
  readonly logger: Logger;
  readonly config: TrackerConfig;
  /** What the HTTP side (status, metrics, gateway) reads; owned by the tracker. */
  readonly services: TrackerServices;
  readonly stats: QueryStats;
  /** The last warnings and errors logged. */
  readonly recentLog: RecentLog;
  /** Resolves once the tracker has stopped, whoever asked (close(), `!shutdown`). */
  readonly stopped: Promise<void>;
  /** Graceful stop: no new connections, running requests finish, replies flushed. */
  close(): Promise<void>;
}

/** Opens the services, then listens on every configured address. */
export async function startTracker(
  config: TrackerConfig,
  options: StartTrackerOptions = {},
): Promise<RunningTracker> {
  const watch = new WatchHub();
  const recentLog = new RecentLog();
  const logger = createTrackerLogger(config.debug, watch, options.logDestination, recentLog);
  const stats = new QueryStats();
  const services = await createTrackerServices({
    dbUrl: config.dbUrl,
    dbUser: config.dbUser,
    dbPass: config.dbPass,
    noSchemaCheck: config.noSchemaCheck,
    defaultMindevcount: config.defaultMindevcount,
    minFreeSpaceMb: config.minFreeSpaceMb,
    nodeTimeoutMs: config.nodeTimeoutMs,
    connTimeoutMs: config.connTimeoutMs,
    mogstoredStreamPort: config.mogstoredStreamPort,
    copiesBetweenNodes: config.copiesBetweenNodes,
    replUseGetPort: config.replUseGetPort,
    jobMaster: config.jobMaster,
    ...(config.secret !== undefined && {
      secret: config.secret,
      secretExpirySeconds: config.secretExpirySeconds,
    }),
    logger,
    // The replicator's breaches count with the requests' (`!stats`, /metrics).
    onInvariantViolation: () => stats.increment('invariant_violations'),
    db: {
      poolSize: config.dbPoolSize,
      queueTimeoutMs: config.dbQueueTimeoutMs,
      queueLimit: config.dbQueueLimit,
      connectTimeoutMs: config.requestTimeoutMs,
      statementTimeoutMs: STATEMENT_TIMEOUT_MS,
      preparedStatements: config.dbPreparedStatements,
    },
  });
  let closing: Promise<void> | undefined;
  const server = new TrackerServer({
    dispatcher: createDispatcher(buildCommandRegistry(), services, {
      logger,
      stats,
      admin: new AdminCommands({ config, stats, watch, requestShutdown: () => void close() }),
      requestTimeoutMs: config.requestTimeoutMs,
      staleReplyAfterMs: config.staleReplyAfterMs,
      adminNetworks: config.adminNetworks,
    }),
    logger,
    maxLineBytes: MAX_LINE_BYTES,
    idleTimeoutMs: config.idleTimeoutMs,
    pipelineDepth: config.pipelineDepth,
    writeStallMs: WRITE_STALL_MS,
    abandonedAfterMs: config.abandonedAfterMs,
    shutdownTimeoutMs: config.shutdownTimeoutMs,
  });
  let resolveStopped!: () => void;
  const stopped = new Promise<void>((resolve) => {
    resolveStopped = resolve;
  });
  function close(): Promise<void> {
    closing ??= shutDown(server, services, logger).finally(resolveStopped);
    return closing;
  }

  const addresses: ListenAddress[] = [];
  try {
    for (const address of config.listen) addresses.push(await server.listen(address));
  } catch (error) {
    await close();
    throw error;
  }
  logger.info({ addresses, database: redactDatabaseUrl(config.dbUrl) }, 'tracker listening');
  return { addresses, logger, config, services, stats, recentLog, stopped, close };
}

async function shutDown(
  server: TrackerServer,
  services: TrackerServicesHandle,
  logger: Logger,
): Promise<void> {
  logger.info('tracker stopping');
  await server.close();
  try {
    await services.close();
  } catch (error) {
    // Said, not thrown: whoever asked for the stop (a signal handler) does not wait on it.
    logger.error({ err: error }, 'tracker stopped, but closing its workers or database failed');
    return;
  }
  logger.info('tracker stopped');
}
