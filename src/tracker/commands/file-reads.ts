import type { FileRow } from '../../meta/index.js';
import { MogileError } from '../../protocol/errors.js';
import { InvariantError } from '../../protocol/invariant-error.js';
import type { ClusterSnapshot } from '../cluster-view.js';
import type { CommandContext, CommandHandler, ReplyArgs, RequestArgs } from '../command.js';
import { isTruthy } from '../command.js';
import { hashtypeName, leadingInteger } from './args.js';
import { domainClasses } from './class-list.js';
import { checkDomain, checkKey } from './domain-check.js';
import { orderReadPaths } from './read-paths.js';

/** Looks up the key's file row and checks it is the row that was asked for (§4.5). */
async function findKeyFile(args: RequestArgs, ctx: CommandContext) {
  const { domain, snapshot } = await checkDomain(args, ctx);
  const key = checkKey(args);
  const file = await ctx.services.meta.findFile(domain.dmid, key);
  return { domain, snapshot, key, file: checkFoundFile(file, domain, key) };
}

function checkFoundFile(
  file: FileRow | undefined,
  domain: { dmid: number; name: string },
  key: string,
): FileRow {
  if (!file) throw new MogileError('unknown_key');
  if (file.dmid !== domain.dmid || file.key !== key) {
    throw new InvariantError(
      `lookup of ${domain.name}/${key} returned fid ${file.fid} of dmid ${file.dmid} key ${file.key}`,
    );
  }
  return file;
}

/**
 * `get_paths` (§5.3): readable URLs of the key's copies, best first. Echoes `domain`, `key`
 * and `fid` so a client can check the reply answers its own request (architecture.md §4.1),
 * and adds the file's `length` and `checksum`.
 */
async function getPaths(args: RequestArgs, ctx: CommandContext): Promise<ReplyArgs> {
  const { domain, snapshot } = await checkDomain(args, ctx);
  const key = checkKey(args);
  // One round trip for the file, its checksum and its copies: this is the hot read path.
  const located = await ctx.services.meta.locateFile(domain.dmid, key);
  const file = checkFoundFile(located?.file, domain, key);
  const devids = located!.devids;
  const wanted = Math.max(2, leadingInteger(args.get('pathcount')) ?? 2);
  const paths = await orderReadPaths(file, devids, snapshot, ctx, {
    verify: !isTruthy(args.get('noverify')),
    max: wanted,
    zone: args.get('zone'),
  });
  // Built once in wire order, without spreading: this is the tracker's hottest reply.
  const reply: Record<string, string | number> = { paths: paths.length };
  for (let i = 0; i < paths.length; i++) reply[`path${i + 1}`] = paths[i]!;
  reply['domain'] = domain.name;
  reply['key'] = key;
  reply['fid'] = file.fid;
  reply['length'] = file.length;
  // Length and checksum let a client verify what it reads without a second request.
  const checksum = located!.checksum;
  if (checksum) reply['checksum'] = formatChecksum(checksum);
  return reply;
}

/** `file_info` (§5.7). */
async function fileInfo(args: RequestArgs, ctx: CommandContext): Promise<ReplyArgs> {
  const { domain, snapshot, key, file } = await findKeyFile(args, ctx);
  const classRow = classOfFile(snapshot, file, ctx);
  const reply: Record<string, string | number> = {
    fid: file.fid,
    domain: domain.name,
    class: classRow?.name ?? '',
    key,
    length: file.length,
    devcount: file.devcount,
  };
  if (classRow?.hashtype) {
    const checksum = await ctx.services.meta.getChecksum(file.fid);
    reply['checksum'] = checksum ? formatChecksum(checksum) : 'MISSING';
  }
  if (isTruthy(args.get('devices'))) {
    reply['devids'] = (await ctx.services.meta.fileDevids(file.fid)).join(',');
  }
  return reply;
}

export function formatChecksum(checksum: { hashtype: number; digest: Uint8Array }): string {
  return `${hashtypeName(checksum.hashtype)}:${Buffer.from(checksum.digest).toString('hex')}`;
}

export function classOfFile(snapshot: ClusterSnapshot, file: FileRow, ctx: CommandContext) {
  return domainClasses(snapshot, file.dmid, ctx.services.options.defaultMindevcount).find(
    (row) => row.classid === file.classid,
  );
}

/** `list_keys` (§5.9): byte-ordered pages with a literal prefix. */
async function listKeys(args: RequestArgs, ctx: CommandContext): Promise<ReplyArgs> {
  const { domain } = await checkDomain(args, ctx);
  const prefix = args.get('prefix') ?? '';
  const after = args.get('after') ?? '';
  // A literal prefix test; the original treats the prefix as a regular expression (QUIRK).
  if (prefix !== '' && isTruthy(after) && !after.startsWith(prefix)) {
    throw new MogileError('after_mismatch');
  }
  const asked = leadingInteger(args.get('limit'));
  const limit = asked === undefined || asked <= 0 || asked > 1000 ? 1000 : asked;
  const keys = await ctx.services.meta.listKeys(domain.dmid, prefix, after, limit);
  if (keys.length === 0) throw new MogileError('none_match');
  const reply: Record<string, string | number> = { key_count: keys.length };
  let greatest = keys[0]!;
  for (const [i, key] of keys.entries()) {
    reply[`key_${i + 1}`] = key;
    if (Buffer.compare(Buffer.from(key), Buffer.from(greatest)) > 0) greatest = key;
  }
  reply['next_after'] = greatest;
  return reply;
}

/** `list_fids` (§5.10): `to` is a count, not an upper bound. */
async function listFids(args: RequestArgs, ctx: CommandContext): Promise<ReplyArgs> {
  const from = Math.max(0, leadingInteger(args.get('from')) ?? 0);
  const asked = leadingInteger(args.get('to'));
  const count = asked === undefined || asked === 0 ? 100 : asked < 0 || asked > 500 ? 500 : asked;
  const snapshot = await ctx.services.cluster.current();
  const files = await ctx.services.meta.listFids(from, count);
  const reply: Record<string, string | number> = { fid_count: files.length };
  for (const [i, file] of files.entries()) {
    const prefix = `fid_${i + 1}_`;
    const domain = snapshot.domains.find((row) => row.dmid === file.dmid);
    reply[`${prefix}fid`] = file.fid;
    reply[`${prefix}domain`] = domain?.name ?? '';
    reply[`${prefix}class`] = classOfFile(snapshot, file, ctx)?.name ?? '';
    reply[`${prefix}key`] = file.key;
    reply[`${prefix}length`] = file.length;
    reply[`${prefix}devcount`] = file.devcount;
  }
  return reply;
}

export const fileReadCommands: Readonly<Record<string, CommandHandler>> = {
  get_paths: getPaths,
  file_info: fileInfo,
  list_keys: listKeys,
  list_fids: listFids,
};

export { findKeyFile };
