import type { DomainRow } from '../../meta/index.js';
import { MogileError } from '../../protocol/errors.js';
import type { ClusterSnapshot } from '../cluster-view.js';
import type { CommandContext, RequestArgs } from '../command.js';
import { byteLength } from './args.js';

/**
 * The domain check of file commands (spec tracker-protocol.md §4.1): `no_domain` when
 * missing, `unreg_domain` when this tracker does not know it. An unknown name reloads the
 * view first (at most once a second), so a domain made through another tracker is found.
 */
export async function checkDomain(
  args: RequestArgs,
  ctx: CommandContext,
): Promise<{ domain: DomainRow; snapshot: ClusterSnapshot }> {
  const name = args.get('domain');
  if (name === undefined || name === '') throw new MogileError('no_domain');
  let snapshot = await ctx.services.cluster.current();
  let domain = snapshot.domain(name);
  if (!domain) {
    snapshot = await ctx.services.cluster.refreshIfOlderThan(1000);
    domain = snapshot.domain(name);
  }
  if (!domain) throw new MogileError('unreg_domain');
  return { domain, snapshot };
}

/** The key check (§4.2): present and non-empty (`0` is a key); at most 255 bytes. */
export function checkKey(args: RequestArgs, name = 'key'): string {
  const key = args.get(name);
  if (key === undefined || key === '') throw new MogileError('no_key');
  if (byteLength(key) > 255) throw new MogileError('key_too_long');
  return key;
}
