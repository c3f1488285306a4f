import { lstat } from 'node:fs/promises';
import { createServer, type Server, type Socket } from 'node:net';
import { digestFile } from './file-digest.js';
import type { NodeContext } from './node-context.js';
import { PathLocks } from './node-context.js';
import { parseReadTarget } from './request-target.js';
import { parseSideCommand, type SideCommand } from './side-commands.js';
import type { WatchBroadcaster } from './watch-broadcaster.js';

/** A client that sends this much without a newline is not speaking the protocol. */
const MAX_LINE_BYTES = 64 * 1024;
const DOTDOT_ERROR = 'ERROR: uri invalid (contains ..)';

export interface SideChannelOptions {
  readonly maxConnections: number;
  readonly watch: WatchBroadcaster | null;
  readonly onShutdown: (graceful: boolean) => void;
}

/**
 * The side channel (spec/storage-node.md §5): line commands, answered in order on each
 * connection, one at a time (later lines wait while a checksum is computed). Replies end in
 * CRLF; the `watch` stream in LF. No greeting and no idle timeout, as in the reference.
 */
export function createSideChannel(ctx: NodeContext, options: SideChannelOptions): SideChannel {
  const fsckQueues = new PathLocks();
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    serveConnection(ctx, options, fsckQueues, socket);
  });
  server.maxConnections = options.maxConnections;
  return {
    server,
    destroyConnections: () => {
      for (const socket of sockets) socket.destroy();
    },
  };
}

export interface SideChannel {
  readonly server: Server;
  /** Side-channel connections have no idle timeout, so closing must cut them. */
  destroyConnections(): void;
}

function serveConnection(
  ctx: NodeContext,
  options: SideChannelOptions,
  fsckQueues: PathLocks,
  socket: Socket,
): void {
  socket.setNoDelay(true);
  socket.on('error', () => socket.destroy());
  let pending = '';
  const lines: string[] = [];
  let busy = false;
  let watching = false;

  const drain = async () => {
    if (busy) return;
    busy = true;
    try {
      while (lines.length > 0 && !watching && !socket.destroyed) {
        const command = parseSideCommand(lines.shift()!);
        ctx.stats.sideCommand();
        if (command.kind === 'watch') {
          watching = true;
          if (options.watch) options.watch.subscribe(socket);
          else socket.end('ERR iostat unavailable\r\n');
          return;
        }
        if (command.kind === 'shutdown') {
          options.onShutdown(command.graceful);
          return;
        }
        const reply = await answer(ctx, fsckQueues, command);
        if (!socket.destroyed) socket.write(`${reply}\r\n`);
      }
    } finally {
      busy = false;
    }
  };

  socket.setEncoding('latin1');
  socket.on('data', (chunk: string) => {
    if (watching) return;
    pending += chunk;
    let newline = pending.indexOf('\n');
    while (newline >= 0) {
      lines.push(pending.slice(0, newline));
      pending = pending.slice(newline + 1);
      newline = pending.indexOf('\n');
    }
    if (pending.length > MAX_LINE_BYTES) {
      socket.destroy();
      return;
    }
    drain().catch((error: unknown) => {
      ctx.logger?.error({ err: error }, 'side channel command failed');
      socket.destroy();
    });
  });
}

async function answer(
  ctx: NodeContext,
  fsckQueues: PathLocks,
  command: Exclude<SideCommand, { kind: 'watch' | 'shutdown' }>,
): Promise<string> {
  switch (command.kind) {
    case 'empty':
      return '';
    case 'unknown':
      return `ERROR: unknown command: ${command.word}`;
    case 'size': {
      const path = await localPath(ctx, command.uri);
      if (path === 'dotdot') return DOTDOT_ERROR;
      const info = path === null ? null : await lstat(path).catch(() => null);
      return `${command.uri} ${info?.isFile() ? info.size : -1}`;
    }
    case 'digest': {
      const path = await localPath(ctx, command.uri);
      if (path === 'dotdot') return DOTDOT_ERROR;
      const prefix = `${command.uri} ${command.algorithm}=`;
      if (path === null) return `${prefix}-1`;
      const algorithm = command.algorithm === 'MD5' ? 'md5' : 'sha1';
      const compute = () => digestFile(path, algorithm);
      // fsck checksums wait their turn per device, one at a time (§5.2).
      const outcome =
        command.reason === 'fsck'
          ? await fsckQueues.run(command.uri.split('/')[1] ?? '', compute)
          : await compute();
      if (outcome.kind === 'missing') return `${prefix}-1`;
      if (outcome.kind === 'read-error') {
        return `ERR read ${command.uri} at ${outcome.offset} failed`;
      }
      ctx.stats.sideDigest(outcome.bytes);
      return `${prefix}${outcome.hex}`;
    }
  }
}

/** The confined local path of a side-channel URI, `null` when it cannot exist. */
async function localPath(ctx: NodeContext, uri: string): Promise<string | null | 'dotdot'> {
  if (uri.includes('..')) return 'dotdot';
  const target = parseReadTarget(uri);
  if (!target.ok) return null;
  const place = await ctx.fs.resolveRead(target.segments);
  return place.ok ? place.path : null;
}
