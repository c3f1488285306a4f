import {
  CLASS_DURABILITIES,
  type ClassDurability,
  type ClassFields,
  type ClassRow,
  MetaDuplicateError,
} from '../../meta/index.js';
import { MogileError } from '../../protocol/errors.js';
import type { CommandContext, CommandHandler, ReplyArgs, RequestArgs } from '../command.js';
import { isTruthy } from '../command.js';
import { PolicyParseError, parseReplicationPolicy } from '../replication-policy.js';
import { checkMaxBytes, hashtypeId, leadingInteger, requireArg } from './args.js';

interface ClassRequest {
  readonly domain: string;
  readonly name: string;
  readonly fields: ClassFields;
}

/**
 * Validates in the original's order: domain, class, mindevcount, replpolicy, hashtype
 * (§6.4), then our `durability` (docs/protocol-extensions.md).
 */
function readClassRequest(args: RequestArgs): ClassRequest {
  const domain = requireArg(args, 'domain', 'no_domain');
  const name = requireArg(args, 'class', 'no_class');
  checkMaxBytes(name, 50, 'A class name');
  const mindevcount = leadingInteger(args.get('mindevcount'));
  if (mindevcount === undefined || mindevcount < 1) throw new MogileError('invalid_mindevcount');
  if (mindevcount > 255) {
    throw new MogileError('invalid_mindevcount', 'The mindevcount must be between 1 and 255');
  }
  const fields: { -readonly [K in keyof ClassFields]: ClassFields[K] } = { mindevcount };
  const replpolicy = args.get('replpolicy');
  if (replpolicy !== undefined && replpolicy !== '') {
    checkMaxBytes(replpolicy, 255, 'A replication policy');
    try {
      parseReplicationPolicy(replpolicy);
    } catch (error) {
      if (error instanceof PolicyParseError)
        throw new MogileError('invalid_replpolicy', error.message);
      throw error;
    }
    fields.replpolicy = replpolicy;
  }
  const hashtype = args.get('hashtype');
  if (hashtype !== undefined && hashtype !== '') {
    if (hashtype === 'NONE') fields.hashtype = null;
    else {
      const id = hashtypeId(hashtype);
      if (id === undefined) throw new MogileError('invalid_hashtype');
      fields.hashtype = id;
    }
  }
  const durability = args.get('durability');
  if (durability !== undefined && durability !== '') {
    if (!(CLASS_DURABILITIES as readonly string[]).includes(durability)) {
      throw new MogileError(
        'bad_params',
        `durability must be ${CLASS_DURABILITIES.join(' or ')}, not "${durability}"`,
      );
    }
    fields.durability = durability as ClassDurability;
  }
  return { domain, name, fields };
}

function changesPlacement(existing: ClassRow, fields: ClassFields): boolean {
  const mindevcountChanged =
    fields.mindevcount !== undefined && fields.mindevcount !== existing.mindevcount;
  const policyChanged =
    fields.replpolicy !== undefined && fields.replpolicy !== (existing.replpolicy ?? '');
  return mindevcountChanged || policyChanged;
}

/** `create_class`, or `update_class` when `update` is truthy (§6.4). */
async function saveClass(
  args: RequestArgs,
  ctx: CommandContext,
  update: boolean,
): Promise<ReplyArgs> {
  const request = readClassRequest(args);
  const { meta } = ctx.services;
  const domain = await meta.findDomain(request.domain);
  if (!domain) throw new MogileError('domain_not_found');
  const existing = await meta.findClass(domain.dmid, request.name);
  try {
    if (update && existing) {
      await meta.updateClass(domain.dmid, existing.classid, request.fields);
      if (changesPlacement(existing, request.fields)) {
        // Files move to the new count without an fsck (the original needs one).
        await meta.queueClassReplication(domain.dmid, existing.classid, ctx.services.nowSeconds());
      }
    } else if (update && request.name !== 'default') {
      throw new MogileError('class_not_found');
    } else if (existing) {
      throw new MogileError('class_exists');
    } else {
      const classid = request.name === 'default' ? 0 : undefined;
      await meta.createClass(domain.dmid, request.name, request.fields, classid);
    }
  } catch (error) {
    if (error instanceof MetaDuplicateError) {
      // Two trackers raced to create the same class, or 255 classes are used up.
      throw new MogileError('class_exists');
    }
    throw error;
  }
  await ctx.services.cluster.refresh();
  return { class: request.name, mindevcount: request.fields.mindevcount, domain: request.domain };
}

/** `delete_class` (§6.5): never `default`, never a class that still has files. */
async function deleteClass(args: RequestArgs, ctx: CommandContext): Promise<ReplyArgs> {
  const domainName = requireArg(args, 'domain', 'no_domain');
  const className = args.get('class') ?? '';
  if (className === 'default') throw new MogileError('nodel_default_class');
  const { meta } = ctx.services;
  const domain = await meta.findDomain(domainName);
  if (!domain) throw new MogileError('domain_not_found');
  const row = className === '' ? undefined : await meta.findClass(domain.dmid, className);
  if (!row) throw new MogileError('class_not_found');
  if (await meta.classHasFiles(domain.dmid, row.classid)) throw new MogileError('class_has_files');
  await meta.deleteClass(domain.dmid, row.classid);
  await ctx.services.cluster.refresh();
  return { domain: domainName, class: className };
}

export const classCommands: Readonly<Record<string, CommandHandler>> = {
  create_class: (args, ctx) => saveClass(args, ctx, isTruthy(args.get('update'))),
  update_class: (args, ctx) => saveClass(args, ctx, true),
  delete_class: deleteClass,
};
