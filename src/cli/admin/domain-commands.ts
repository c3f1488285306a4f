import type { Command } from 'commander';
import type { DomainInfo, MogileAdmin } from '../../client/index.js';
import { adminCommand, runAdmin } from './admin-runner.js';
import { renderTable } from './table.js';

/** `mogile admin domain add|delete|list` (mogadm's `domain`). */
export function registerDomainCommands(admin: Command): void {
  const domain = admin.command('domain').description('namespaces of keys');
  adminCommand(domain, 'add <domain>', 'create a domain').action(
    runAdmin(async (ctx, name) => {
      await ctx.admin.createDomain(name!);
      await ctx.result({ domain: name }, () => `Domain ${name} created.\n`);
    }, domainSubject),
  );
  adminCommand(domain, 'delete <domain>', 'delete an empty domain').action(
    runAdmin(async (ctx, name) => {
      await ctx.admin.deleteDomain(name!);
      await ctx.result({ domain: name, deleted: true }, () => `Domain ${name} deleted.\n`);
    }, domainSubject),
  );
  adminCommand(domain, 'list', 'list domains and their classes').action(
    runAdmin(async (ctx) => {
      const domains = await sortedDomains(ctx.admin);
      await ctx.result(domains, () => renderClasses(domains));
    }),
  );
}

function domainSubject(args: string[]): string {
  return `domain ${JSON.stringify(args[0] ?? '')}`;
}

/** Domains by name, each with its classes by name (`default` first): mogadm sorts too. */
export async function sortedDomains(admin: MogileAdmin): Promise<DomainInfo[]> {
  const byName = (a: { name: string }, b: { name: string }) =>
    a.name === 'default' ? -1 : b.name === 'default' ? 1 : a.name.localeCompare(b.name);
  return (await admin.getDomains())
    .sort((a, b) => a.name.localeCompare(b.name))
    .map((domain) => ({ ...domain, classes: [...domain.classes].sort(byName) }));
}

/** One row per class, the domain named on its first row only, as mogadm prints it. */
export function renderClasses(domains: readonly DomainInfo[]): string {
  if (domains.length === 0) return 'No domains.\n';
  const rows = domains.flatMap((domain) =>
    domain.classes.map((row, i) => [
      i === 0 ? domain.name : '',
      row.name,
      row.mindevcount,
      row.replpolicy,
      row.hashtype,
    ]),
  );
  return renderTable(
    [
      { header: 'domain' },
      { header: 'class' },
      { header: 'mindevcount', align: 'right' },
      { header: 'replpolicy' },
      { header: 'hashtype' },
    ],
    rows,
  );
}
