/**
 * The fid -> URI path layout of spec/storage-node.md §2, shared by the tracker (which hands
 * out URLs) and the storage node (which checks PUT targets). Pure: no I/O.
 *
 * The fid is zero-padded to at least 10 digits; the three directory levels always come
 * from the first ten digits, so fids above 9,999,999,999 keep their full name but share
 * directories with their 10-digit prefix.
 */
export function fidPath(devid: number | bigint, fid: number | bigint): string {
  assertNonNegativeInteger('devid', devid);
  assertNonNegativeInteger('fid', fid);
  const padded = String(fid).padStart(10, '0');
  const bucket = padded.slice(0, 1);
  const millions = padded.slice(1, 4);
  const thousands = padded.slice(4, 7);
  return `/dev${devid}/${bucket}/${millions}/${thousands}/${padded}.fid`;
}

/** The inverse of {@link fidPath}: `{devid, fid}` for a canonical fid path, else null. */
export function parseFidPath(path: string): { devid: bigint; fid: bigint } | null {
  const match = /^\/dev(\d+)\/(\d)\/(\d{3})\/(\d{3})\/(\d{10,})\.fid$/.exec(path);
  if (!match) return null;
  const devid = BigInt(match[1]!);
  const fid = BigInt(match[5]!);
  return fidPath(devid, fid) === path ? { devid, fid } : null;
}

function assertNonNegativeInteger(name: string, value: number | bigint): void {
  const ok = typeof value === 'bigint' ? value >= 0n : Number.isSafeInteger(value) && value >= 0;
  if (!ok) throw new RangeError(`${name} must be a non-negative integer, got ${String(value)}`);
}
