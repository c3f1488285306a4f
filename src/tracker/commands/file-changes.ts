import { MetaDuplicateError } from '../../meta/index.js';
import { MogileError } from '../../protocol/errors.js';
import type { CommandContext, CommandHandler, ReplyArgs, RequestArgs } from '../command.js';
import { findClassByName } from './class-list.js';
import { checkDomain, checkKey } from './domain-check.js';
import { findKeyFile } from './file-reads.js';

/** `delete` (§5.4): the key goes now; its copies are removed by the delete worker. */
async function deleteKey(args: RequestArgs, ctx: CommandContext): Promise<ReplyArgs> {
  const { file } = await findKeyFile(args, ctx);
  await ctx.services.meta.deleteFile(file.fid, ctx.services.nowSeconds());
  return {};
}

/** `rename` (§5.5): never over an existing key; onto itself is a no-op. */
async function rename(args: RequestArgs, ctx: CommandContext): Promise<ReplyArgs> {
  const { domain } = await checkDomain(args, ctx);
  const fromKey = checkKey(args, 'from_key');
  const toKey = checkKey(args, 'to_key');
  const { meta } = ctx.services;
  if (fromKey === toKey) {
    if (!(await meta.findFile(domain.dmid, fromKey))) throw new MogileError('unknown_key');
    return {};
  }
  try {
    if (!(await meta.renameFile(domain.dmid, fromKey, toKey))) throw new MogileError('unknown_key');
  } catch (error) {
    if (error instanceof MetaDuplicateError) throw new MogileError('key_exists');
    throw error;
  }
  return {};
}

/** `updateclass` (§5.6): the replicator then adds or removes copies. */
async function updateClass(args: RequestArgs, ctx: CommandContext): Promise<ReplyArgs> {
  const { domain, snapshot } = await checkDomain(args, ctx);
  const key = checkKey(args);
  const className = args.get('class');
  // A class named `0` works too (the original cannot use it, §5.6 QUIRK).
  if (className === undefined || className === '') throw new MogileError('no_class');
  const classRow = findClassByName(
    snapshot,
    domain.dmid,
    className,
    ctx.services.options.defaultMindevcount,
  );
  if (!classRow) throw new MogileError('class_not_found');
  const { meta } = ctx.services;
  const file = await meta.findFile(domain.dmid, key);
  if (!file) throw new MogileError('invalid_key');
  if ((await meta.fileDevids(file.fid)).length === 0) throw new MogileError('no_devices');
  if (file.classid !== classRow.classid) await meta.updateFileClass(file.fid, classRow.classid);
  return {};
}

export const fileChangeCommands: Readonly<Record<string, CommandHandler>> = {
  delete: deleteKey,
  rename,
  updateclass: updateClass,
};
