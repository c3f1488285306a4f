import { MogileError } from '../../protocol/errors.js';
import type { CommandContext } from '../command.js';
import type { HeadResult } from '../node-client.js';

export interface ClientChecksum {
  readonly algorithm: 'MD5' | 'SHA-1';
  /** Lower-case hex. */
  readonly hex: string;
}

const HEX_LENGTH = { MD5: 32, 'SHA-1': 40 } as const;

/** `checksum=ALG:hex` of create_close (§5.2 step 3); undefined when not given. */
export function parseChecksumArg(value: string | undefined): ClientChecksum | undefined {
  if (value === undefined || value === '' || value === '0') return undefined;
  const match = /^([\w-]+):([0-9a-fA-F]{32,128})$/.exec(value);
  const algorithm = match?.[1];
  if (
    !match ||
    (algorithm !== 'MD5' && algorithm !== 'SHA-1') ||
    match[2]!.length !== HEX_LENGTH[algorithm]
  ) {
    throw new MogileError('invalid_checksum_format');
  }
  return { algorithm, hex: match[2]!.toLowerCase() };
}

/**
 * The digest of an uploaded copy: from the headers a mogile node returns with HEAD, else
 * from the node's side channel, which reads the file (spec storage-node.md §5.2).
 * Undefined when the node cannot tell.
 */
export async function readNodeDigest(
  url: string,
  devid: number,
  algorithm: 'MD5' | 'SHA-1',
  head: HeadResult,
  ctx: CommandContext,
): Promise<string | undefined> {
  const fromHeader = algorithm === 'MD5' ? head.md5 : head.sha1;
  if (fromHeader) return fromHeader;
  const snapshot = await ctx.services.cluster.current();
  const device = snapshot.device(devid);
  const host = device && snapshot.host(device.hostid);
  if (!host) return undefined;
  const { options, nodes } = ctx.services;
  const digest = await nodes.sideChannelDigest(
    host.ip,
    options.mogstoredStreamPort,
    new URL(url).pathname,
    algorithm,
    options.nodeTimeoutMs,
  );
  return digest ?? undefined;
}
