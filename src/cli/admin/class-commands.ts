import { type Command, Option } from 'commander';
import type { ClassOptions } from '../../client/index.js';
import { AdminFailure, AdminUsageError } from './admin-errors.js';
import { type AdminContext, adminCommand, integerOption, runAdmin } from './admin-runner.js';
import { renderClasses, sortedDomains } from './domain-commands.js';

const HASHTYPES = ['NONE', 'MD5', 'SHA-1'];
const DURABILITIES = ['async', 'sync'];

/** `mogile admin class add|modify|delete|list` (mogadm's `class`). */
export function registerClassCommands(admin: Command): void {
  const cls = admin.command('class').description('replication classes of a domain');
  classOptions(adminCommand(cls, 'add <domain> <class>', 'create a class')).action(
    runAdmin(async (ctx, domain, name) => {
      const created = await ctx.admin.createClass(domain!, name!, {
        ...fieldsFrom(ctx),
        mindevcount: (ctx.options['mindevcount'] as number | undefined) ?? 2,
      });
      await ctx.result(
        { domain, ...created },
        () => `Class ${name} created in domain ${domain}.\n`,
      );
    }, classSubject),
  );
  classOptions(adminCommand(cls, 'modify <domain> <class>', 'change a class')).action(
    runAdmin(modifyClass, classSubject),
  );
  adminCommand(cls, 'delete <domain> <class>', 'delete a class that has no files').action(
    runAdmin(async (ctx, domain, name) => {
      await ctx.admin.deleteClass(domain!, name!);
      await ctx.result(
        { domain, class: name, deleted: true },
        () => `Class ${name} deleted from domain ${domain}.\n`,
      );
    }, classSubject),
  );
  adminCommand(cls, 'list', 'list classes of every domain').action(
    runAdmin(async (ctx) => {
      const domains = await sortedDomains(ctx.admin);
      const rows = domains.flatMap((domain) =>
        domain.classes.map((row) => ({ domain: domain.name, ...row })),
      );
      await ctx.result(rows, () => renderClasses(domains));
    }),
  );
}

function classSubject(args: string[]): string {
  return `class ${JSON.stringify(args[1] ?? '')} in domain ${JSON.stringify(args[0] ?? '')}`;
}

function classOptions(command: Command): Command {
  return command
    .option('--mindevcount <n>', 'copies to keep (add: default 2)', integerOption(1))
    .option('--replpolicy <policy>', 'replication policy, e.g. "MultipleHosts(2)"')
    .addOption(new Option('--hashtype <type>', 'checksum kept for each file').choices(HASHTYPES))
    .addOption(
      new Option('--durability <mode>', 'sync: storing returns once the copies exist').choices(
        DURABILITIES,
      ),
    );
}

function fieldsFrom(ctx: AdminContext): Omit<ClassOptions, 'mindevcount'> {
  return {
    replpolicy: ctx.options['replpolicy'] as string | undefined,
    hashtype: ctx.options['hashtype'] as string | undefined,
    durability: ctx.options['durability'] as ClassOptions['durability'],
  };
}

/**
 * mogadm sends mindevcount 2 when it is not given, so changing only the policy silently
 * reset it (spec tracker-protocol.md §6.4 QUIRKS). Here an unnamed field keeps its value.
 */
async function modifyClass(ctx: AdminContext, domain?: string, name?: string): Promise<void> {
  const fields = fieldsFrom(ctx);
  let mindevcount = ctx.options['mindevcount'] as number | undefined;
  if (
    mindevcount === undefined &&
    fields.replpolicy === undefined &&
    fields.hashtype === undefined &&
    fields.durability === undefined
  ) {
    throw new AdminUsageError(
      'nothing to change: give --mindevcount, --replpolicy, --hashtype or --durability',
    );
  }
  if (mindevcount === undefined) {
    const current = (await ctx.admin.getDomains())
      .find((entry) => entry.name === domain)
      ?.classes.find((entry) => entry.name === name);
    if (!current) throw new AdminFailure('no such class');
    mindevcount = current.mindevcount;
  }
  const updated = await ctx.admin.updateClass(domain!, name!, { ...fields, mindevcount });
  await ctx.result({ domain, ...updated }, () => `Class ${name} in domain ${domain} updated.\n`);
}
