import type { CommandContext, CommandHandler, ReplyArgs } from '../command.js';
import { domainClasses } from './class-list.js';

/**
 * `mogile_stats` (docs/protocol-extensions.md): what mogstats read straight from the
 * database — files, bytes and copy counts per class, and queue depths — for trackers
 * whose database an operator cannot reach. Read-only. The original's `stats` command
 * was removed and stays `unknown_command` (spec tracker-protocol.md §8).
 */
async function mogileStats(_args: unknown, ctx: CommandContext): Promise<ReplyArgs> {
  const { meta, cluster, options } = ctx.services;
  const now = ctx.services.nowSeconds();
  const [snapshot, usage, copies, queues] = await Promise.all([
    cluster.current(),
    meta.classUsage(),
    meta.copyCounts(),
    meta.queueDepths(now),
  ]);

  // Every class of every domain, with files or not; then files whose class is unknown
  // (a database shared with another tracker may hold some).
  const rows = new Map<string, ClassStatsRow>();
  for (const domain of snapshot.domains) {
    for (const row of domainClasses(snapshot, domain.dmid, options.defaultMindevcount)) {
      rows.set(`${domain.dmid}/${row.classid}`, {
        domain: domain.name,
        className: row.name,
        mindevcount: row.mindevcount,
        files: 0,
        bytes: 0,
        copies: [],
      });
    }
  }
  const rowFor = (dmid: number, classid: number): ClassStatsRow => {
    const key = `${dmid}/${classid}`;
    let row = rows.get(key);
    if (!row) {
      const domain = snapshot.domains.find((entry) => entry.dmid === dmid);
      row = {
        domain: domain?.name ?? `#${dmid}`,
        className: `#${classid}`,
        mindevcount: 0,
        files: 0,
        bytes: 0,
        copies: [],
      };
      rows.set(key, row);
    }
    return row;
  };
  for (const entry of usage) {
    const row = rowFor(entry.dmid, entry.classid);
    row.files = entry.files;
    row.bytes = entry.bytes;
  }
  for (const entry of copies) {
    rowFor(entry.dmid, entry.classid).copies.push(`${entry.devcount}:${entry.files}`);
  }

  const reply: Record<string, string | number> = { time: now, classes: rows.size };
  for (const [i, row] of [...rows.values()].entries()) {
    const prefix = `class${i + 1}_`;
    reply[`${prefix}domain`] = row.domain;
    reply[`${prefix}class`] = row.className;
    reply[`${prefix}mindevcount`] = row.mindevcount;
    reply[`${prefix}files`] = row.files;
    reply[`${prefix}bytes`] = row.bytes;
    reply[`${prefix}copies`] = row.copies.join(',');
  }
  for (const [queue, depth] of Object.entries(queues)) {
    for (const [bucket, count] of Object.entries(depth)) {
      reply[`queue_${queue}_${bucket}`] = count;
    }
  }
  return reply;
}

interface ClassStatsRow {
  readonly domain: string;
  readonly className: string;
  readonly mindevcount: number;
  files: number;
  bytes: number;
  /** `devcount:files` pairs in devcount order. */
  readonly copies: string[];
}

export const statsCommands: Readonly<Record<string, CommandHandler>> = {
  mogile_stats: mogileStats,
};
