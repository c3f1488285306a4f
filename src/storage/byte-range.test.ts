import { describe, expect, it } from 'vitest';
import { parseContentRange, parseRange } from './byte-range.js';

describe('parseRange', () => {
  it('reads single ranges against the size', () => {
    expect(parseRange(undefined, 44)).toEqual({ kind: 'full' });
    expect(parseRange('bytes=4-8', 44)).toEqual({ kind: 'partial', range: { start: 4, end: 8 } });
    expect(parseRange('bytes=40-', 44)).toEqual({ kind: 'partial', range: { start: 40, end: 43 } });
    expect(parseRange('bytes=-4', 44)).toEqual({ kind: 'partial', range: { start: 40, end: 43 } });
    expect(parseRange('bytes=-100', 44)).toEqual({ kind: 'partial', range: { start: 0, end: 43 } });
    expect(parseRange('bytes=40-1000', 44)).toEqual({
      kind: 'partial',
      range: { start: 40, end: 43 },
    });
  });

  it('flags unsatisfiable ranges and ignores multi-range or malformed ones', () => {
    for (const header of ['bytes=44-', 'bytes=100-200', 'bytes=5-4', 'bytes=-0']) {
      expect(parseRange(header, 44), header).toEqual({ kind: 'unsatisfiable' });
    }
    expect(parseRange('bytes=0-', 0)).toEqual({ kind: 'unsatisfiable' });
    for (const header of ['bytes=0-1,4-5', 'items=0-1', 'bytes=-', 'bytes=a-b']) {
      expect(parseRange(header, 44), header).toEqual({ kind: 'full' });
    }
  });
});

describe('parseContentRange', () => {
  it('reads bytes a-b/* and a-b/total', () => {
    expect(parseContentRange(undefined)).toBeNull();
    expect(parseContentRange('bytes 0-4/*')).toEqual({ start: 0, end: 4 });
    expect(parseContentRange('bytes 10-14/15')).toEqual({ start: 10, end: 14 });
  });

  it('refuses backwards, out-of-total and malformed ranges', () => {
    for (const header of ['bytes 5-4/*', 'bytes 0-15/15', 'bytes */15', 'bytes=0-4', 'junk']) {
      expect(parseContentRange(header), header).toBe('invalid');
    }
  });
});
