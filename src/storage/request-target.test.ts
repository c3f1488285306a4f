import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseReadTarget, parseWriteTarget, stripTarget } from './request-target.js';

describe('stripTarget', () => {
  it('strips scheme, authority, query and fragment', () => {
    expect(stripTarget('http://h:7500/dev1/usage?x=1#y')).toBe('/dev1/usage');
    expect(stripTarget('http://h:7500')).toBe('/');
    expect(stripTarget('dev1/usage')).toBeNull();
  });
});

describe('parseReadTarget', () => {
  it('drops empty and dot segments', () => {
    expect(parseReadTarget('//dev1/./usage')).toEqual({ ok: true, segments: ['dev1', 'usage'] });
    expect(parseReadTarget('/')).toEqual({ ok: true, segments: [] });
  });

  it('refuses .., NUL, bad escapes and hidden names', () => {
    expect(parseReadTarget('/dev1/%2e%2E/x')).toMatchObject({ ok: false, status: 403 });
    expect(parseReadTarget('/dev1/x%00')).toMatchObject({ ok: false, status: 400 });
    expect(parseReadTarget('/dev1/%zz')).toMatchObject({ ok: false, status: 400 });
    expect(parseReadTarget('/dev1/.mogile-tmp')).toMatchObject({ ok: false, status: 404 });
  });

  it('never yields a segment that could climb or hide (fuzzed)', () => {
    fc.assert(
      fc.property(fc.string(), (text) => {
        const result = parseReadTarget(`/${text}`);
        if (!result.ok) return;
        for (const segment of result.segments) {
          expect(segment).not.toBe('..');
          expect(segment.startsWith('.')).toBe(false);
          expect(segment).not.toContain('/');
          expect(segment).not.toContain('\u0000');
        }
      }),
    );
  });
});

describe('parseWriteTarget', () => {
  it('accepts the fid layout and test-write files', () => {
    expect(parseWriteTarget('/dev3/0/000/001/0000001042.fid')).toEqual({
      ok: true,
      segments: ['dev3', '0', '000', '001', '0000001042.fid'],
    });
    expect(parseWriteTarget('/dev1/test-write/test-write-7')).toMatchObject({ ok: true });
    expect(parseWriteTarget('/dev1/7/', true)).toEqual({ ok: true, segments: ['dev1', '7'] });
  });

  it('refuses everything outside the filename rule', () => {
    for (const target of [
      '/dev1',
      '/x/y',
      '/dev1/a b',
      '/dev1//x',
      '/dev1/x/',
      '/dev1/../x',
      '/dev1/.x',
    ]) {
      expect(parseWriteTarget(target).ok, target).toBe(false);
    }
    expect(parseWriteTarget('/dev1/usage')).toMatchObject({ ok: false, status: 403 });
  });

  it('only ever yields safe segments under a devN folder (fuzzed)', () => {
    fc.assert(
      fc.property(fc.string(), (text) => {
        const result = parseWriteTarget(`/${text}`);
        if (!result.ok) return;
        expect(result.segments[0]).toMatch(/^dev\d+$/);
        for (const segment of result.segments)
          expect(segment).toMatch(/^[A-Za-z0-9_-][A-Za-z0-9_.-]*$/);
      }),
    );
  });
});
