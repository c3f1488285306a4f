/** A byte range of a file, inclusive at both ends (as HTTP writes it). */
export interface ByteRange {
  readonly start: number;
  readonly end: number;
}

export type RangeRequest =
  | { readonly kind: 'full' }
  | { readonly kind: 'partial'; readonly range: ByteRange }
  | { readonly kind: 'unsatisfiable' };

/**
 * Reads a GET/HEAD `Range` header against a file of `size` bytes (spec/storage-node.md
 * §3.2). Only a single `bytes=` range is honoured; multi-range and malformed headers are
 * ignored (full body), as Perlbal does (transcript http.range_multi).
 *
 * `bytes=-N` is the last N bytes (RFC 9110). The Perlbal transcript (http.range_suffix)
 * answers it as `0-N`; that is a bug of the original we do not reproduce.
 */
export function parseRange(header: string | undefined, size: number): RangeRequest {
  if (header === undefined) return { kind: 'full' };
  const match = /^\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*$/i.exec(header);
  if (!match || (match[1] === '' && match[2] === '')) return { kind: 'full' };
  const first = match[1] === '' ? null : Number(match[1]);
  const last = match[2] === '' ? null : Number(match[2]);
  if (first === null) {
    const suffix = last!;
    if (suffix === 0 || size === 0) return { kind: 'unsatisfiable' };
    return { kind: 'partial', range: { start: Math.max(0, size - suffix), end: size - 1 } };
  }
  if (first >= size || (last !== null && last < first)) return { kind: 'unsatisfiable' };
  const end = last === null ? size - 1 : Math.min(last, size - 1);
  return { kind: 'partial', range: { start: first, end } };
}

/**
 * Reads a PUT `Content-Range: bytes a-b/total` (or `/*`) header (§3.3). Returns null when
 * the header is absent, 'invalid' when it cannot be honoured.
 */
export function parseContentRange(header: string | undefined): ByteRange | null | 'invalid' {
  if (header === undefined) return null;
  const match = /^\s*bytes\s+(\d+)-(\d+)\/(\d+|\*)\s*$/i.exec(header);
  if (!match) return 'invalid';
  const start = Number(match[1]);
  const end = Number(match[2]);
  const total = match[3] === '*' ? null : Number(match[3]);
  if (!Number.isSafeInteger(start) || !Number.isSafeInteger(end) || end < start) return 'invalid';
  if (total !== null && end >= total) return 'invalid';
  return { start, end };
}
