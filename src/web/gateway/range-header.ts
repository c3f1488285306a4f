/** An inclusive byte range, as in `Content-Range: bytes start-end/length`. */
export interface ByteSpan {
  readonly start: number;
  readonly end: number;
}

/**
 * Reads a `Range` header against a file of `lengthBytes` (RFC 9110 §14.1.2). Returns the
 * one span to serve, `unsatisfiable` for a 416, or undefined to serve the whole file:
 * no header, a unit other than bytes, or several ranges (which a server may ignore).
 */
export function parseRangeHeader(
  header: string | undefined,
  lengthBytes: number,
): ByteSpan | 'unsatisfiable' | undefined {
  if (header === undefined) return undefined;
  const match = /^\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*$/i.exec(header);
  if (!match) return undefined;
  const [, first, last] = match as unknown as [string, string, string];
  if (first === '' && last === '') return undefined;
  if (first === '') {
    // A suffix: the last N bytes.
    const suffix = Number(last);
    if (suffix === 0 || lengthBytes === 0) return 'unsatisfiable';
    return { start: Math.max(0, lengthBytes - suffix), end: lengthBytes - 1 };
  }
  const start = Number(first);
  if (start >= lengthBytes) return 'unsatisfiable';
  const end = last === '' ? lengthBytes - 1 : Math.min(Number(last), lengthBytes - 1);
  if (end < start) return undefined;
  return { start, end };
}
