import { once } from 'node:events';
import { realpath, stat } from 'node:fs/promises';
import type { Server as HttpServer } from 'node:http';
import type { AddressInfo, Server } from 'node:net';
import { ConfinedFs } from './confined-fs.js';
import { CopySource } from './copy-source.js';
import { DeviceRegistry } from './device-registry.js';
import { DigestStore } from './digest-store.js';
import { UtilizationSampler } from './disk-utilization.js';
import { FolderSync } from './folder-sync.js';
import { HashOffload } from './hash-offload.js';
import { createStorageHttpServer } from './http-server.js';
import { type NodeContext, PathLocks, type StorageLogger } from './node-context.js';
import { createSideChannel, type SideChannel } from './side-channel.js';
import {
  type ListenAddress,
  resolveStorageOptions,
  type StorageNodeOptions,
  StorageOptionError,
} from './storage-options.js';
import { StorageStats } from './storage-stats.js';
import { sweepTempFolder } from './temp-files.js';
import { writeUsageFile } from './usage-file.js';
import { WatchBroadcaster } from './watch-broadcaster.js';

export interface StorageNode {
  readonly httpAddress: ListenAddress;
  /** Null when the node runs without a side channel. */
  readonly sideAddress: ListenAddress | null;
  readonly stats: StorageStats;
  /** Stops accepting, lets in-flight requests finish (up to closeGraceMs), then returns. */
  close(): Promise<void>;
}

export interface StartStorageNodeExtras {
  readonly logger?: StorageLogger;
  /** Called for the side channel's `shutdown` command; defaults to close(). */
  readonly onShutdown?: (graceful: boolean) => void;
}

/**
 * Starts a storage node over `docroot` (spec/storage-node.md): sweeps what a crash left in
 * the temp folders, writes the usage files, then listens. Resolves once both listeners are
 * bound.
 */
export async function startStorageNode(
  options: StorageNodeOptions,
  extras: StartStorageNodeExtras = {},
): Promise<StorageNode> {
  const config = resolveStorageOptions(options);
  const docrootReal = await realpath(config.docroot).catch(() => {
    throw new StorageOptionError('docroot', `${config.docroot} does not exist`);
  });
  if (!(await stat(docrootReal)).isDirectory()) {
    throw new StorageOptionError('docroot', `${config.docroot} is not a directory`);
  }
  const registry = new DeviceRegistry(docrootReal);
  await registry.scan();
  const stats = new StorageStats();
  const ctx: NodeContext = {
    registry,
    fs: new ConfinedFs(registry, docrootReal),
    digests: new DigestStore(),
    stats,
    folderSync: new FolderSync((durationMs) => stats.fsync(durationMs)),
    hashOffload: new HashOffload(),
    copySource: new CopySource({
      headersTimeoutMs: config.headersTimeoutMs,
      idleTimeoutMs: config.idleTimeoutMs,
    }),
    logger: extras.logger,
    pathLocks: new PathLocks(),
    ...(config.secret !== '' && {
      signing: { secret: config.secret, appliesToGet: config.secretAppliesToGet },
    }),
  };
  for (const device of registry.list()) {
    const removed = await sweepTempFolder(device);
    if (removed > 0) {
      ctx.logger?.warn({ device: device.name, removed }, 'removed interrupted uploads');
    }
  }
  await refreshUsage(ctx);
  const usageTimer = setInterval(() => void refreshUsage(ctx), config.usageIntervalMs);
  usageTimer.unref();

  const http = createStorageHttpServer(ctx, config.maxConnections, {
    headersTimeoutMs: config.headersTimeoutMs,
    idleTimeoutMs: config.idleTimeoutMs,
    keepAliveTimeoutMs: config.keepAliveTimeoutMs,
  });
  const watch = config.iostat
    ? new WatchBroadcaster(new UtilizationSampler(registry), config.watchIntervalMs)
    : null;
  let closing: Promise<void> | null = null;
  const close = (): Promise<void> => {
    closing ??= closeAll(http, side, watch, usageTimer, config.closeGraceMs).then(() => {
      ctx.copySource.close();
      return ctx.hashOffload.close();
    });
    return closing;
  };
  const side = config.sideListen
    ? createSideChannel(ctx, {
        maxConnections: config.maxConnections,
        watch,
        onShutdown: extras.onShutdown ?? (() => void close()),
      })
    : null;

  try {
    const httpAddress = await listen(http, config.httpListen);
    const sideAddress =
      side && config.sideListen ? await listen(side.server, config.sideListen) : null;
    return { httpAddress, sideAddress, stats: ctx.stats, close };
  } catch (error) {
    await close();
    throw error;
  }
}

async function refreshUsage(ctx: NodeContext): Promise<void> {
  try {
    await ctx.registry.scan();
  } catch (error) {
    ctx.logger?.error({ err: error }, 'cannot scan the docroot');
    return;
  }
  for (const device of ctx.registry.list()) {
    try {
      await writeUsageFile(device);
    } catch (error) {
      ctx.logger?.warn({ err: error, device: device.name }, 'cannot write the usage file');
    }
  }
}

async function listen(server: Server, address: ListenAddress): Promise<ListenAddress> {
  server.listen(address.port, address.host);
  await Promise.race([
    once(server, 'listening'),
    once(server, 'error').then(([error]) => {
      throw error;
    }),
  ]);
  const bound = server.address() as AddressInfo;
  return { host: bound.address, port: bound.port };
}

async function closeAll(
  http: HttpServer,
  side: SideChannel | null,
  watch: WatchBroadcaster | null,
  usageTimer: NodeJS.Timeout,
  graceMs: number,
): Promise<void> {
  clearInterval(usageTimer);
  watch?.close();
  const closed = [closeServer(http), side ? closeServer(side.server) : Promise.resolve()];
  side?.destroyConnections();
  http.closeIdleConnections();
  const grace = setTimeout(() => http.closeAllConnections(), graceMs);
  try {
    await Promise.all(closed);
  } finally {
    clearTimeout(grace);
  }
}

function closeServer(server: Server): Promise<void> {
  if (!server.listening) return Promise.resolve();
  return new Promise((resolve) => server.close(() => resolve()));
}
