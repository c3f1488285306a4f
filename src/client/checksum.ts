import { createHash, type Hash } from 'node:crypto';

/** A MogileFS checksum, `<ALG>:<hex>` on the wire (spec/tracker-protocol.md §5.2). */
export interface Checksum {
  readonly algorithm: 'MD5' | 'SHA-1';
  readonly hex: string;
}

const WIRE = /^(MD5|SHA-1):([0-9a-fA-F]+)$/;
const HEX_LENGTH = { MD5: 32, 'SHA-1': 40 } as const;

/** Parses `MD5:<hex>` / `SHA-1:<hex>`; anything else (`MISSING`, `NONE`, '') is unknown. */
export function parseChecksum(text: string | undefined): Checksum | undefined {
  const match = text === undefined ? null : WIRE.exec(text);
  if (!match) return undefined;
  const algorithm = match[1] as Checksum['algorithm'];
  if (match[2]!.length !== HEX_LENGTH[algorithm]) return undefined;
  return { algorithm, hex: match[2]!.toLowerCase() };
}

export function formatChecksum(checksum: Checksum): string {
  return `${checksum.algorithm}:${checksum.hex}`;
}

export function createChecksumHash(algorithm: Checksum['algorithm']): Hash {
  return createHash(algorithm === 'MD5' ? 'md5' : 'sha1');
}
