import { MetaDuplicateError } from '../../meta/index.js';
import { MogileError } from '../../protocol/errors.js';
import type { CommandContext, CommandHandler, ReplyArgs, RequestArgs } from '../command.js';
import { checkMaxBytes, hashtypeName, requireArg } from './args.js';
import { domainClasses } from './class-list.js';

/** `create_domain` (spec tracker-protocol.md §6.2). A domain named `0` works too. */
async function createDomain(args: RequestArgs, ctx: CommandContext): Promise<ReplyArgs> {
  const name = requireArg(args, 'domain', 'no_domain');
  checkMaxBytes(name, 255, 'A domain name');
  try {
    await ctx.services.meta.createDomain(name);
  } catch (error) {
    if (error instanceof MetaDuplicateError) throw new MogileError('domain_exists');
    throw error;
  }
  await ctx.services.cluster.refresh();
  return { domain: name };
}

/** `delete_domain` (§6.3): refused while the domain has files or classes. */
async function deleteDomain(args: RequestArgs, ctx: CommandContext): Promise<ReplyArgs> {
  const name = requireArg(args, 'domain', 'no_domain');
  const { meta } = ctx.services;
  const domain = await meta.findDomain(name);
  if (!domain) throw new MogileError('domain_not_found');
  if (await meta.domainHasFiles(domain.dmid)) throw new MogileError('domain_has_files');
  if (await meta.domainHasClasses(domain.dmid)) throw new MogileError('domain_has_classes');
  await meta.deleteDomain(domain.dmid);
  await ctx.services.cluster.refresh();
  return { domain: name };
}

/** `get_domains` (§6.1): every domain with its classes, `default` always included. */
async function getDomains(_args: RequestArgs, ctx: CommandContext): Promise<ReplyArgs> {
  const snapshot = await ctx.services.cluster.current();
  const reply: Record<string, string | number> = { domains: snapshot.domains.length };
  for (const [i, domain] of snapshot.domains.entries()) {
    const prefix = `domain${i + 1}`;
    const classes = domainClasses(snapshot, domain.dmid, ctx.services.options.defaultMindevcount);
    reply[prefix] = domain.name;
    reply[`${prefix}classes`] = classes.length;
    for (const [j, row] of classes.entries()) {
      const classPrefix = `${prefix}class${j + 1}`;
      reply[`${classPrefix}name`] = row.name;
      reply[`${classPrefix}mindevcount`] = row.mindevcount;
      reply[`${classPrefix}replpolicy`] = row.replpolicy || 'MultipleHosts()';
      reply[`${classPrefix}hashtype`] = hashtypeName(row.hashtype);
      reply[`${classPrefix}durability`] = row.durability;
    }
  }
  return reply;
}

export const domainCommands: Readonly<Record<string, CommandHandler>> = {
  create_domain: createDomain,
  delete_domain: deleteDomain,
  get_domains: getDomains,
};
