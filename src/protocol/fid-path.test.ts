import { describe, expect, it } from 'vitest';
import { fidPath, parseFidPath } from './fid-path.js';

describe('fidPath (spec/storage-node.md §2)', () => {
  const examples: Array<[number | bigint, string]> = [
    [1, '/dev3/0/000/000/0000000001.fid'],
    [123, '/dev3/0/000/000/0000000123.fid'],
    [1042, '/dev3/0/000/001/0000001042.fid'],
    [148056, '/dev3/0/000/148/0000148056.fid'],
    [1234567890, '/dev3/1/234/567/1234567890.fid'],
    [2147483632, '/dev3/2/147/483/2147483632.fid'],
    [12345678901, '/dev3/1/234/567/12345678901.fid'],
    [123456789012345678901n, '/dev3/1/234/567/123456789012345678901.fid'],
  ];
  for (const [fid, path] of examples) {
    it(`maps fid ${fid} to ${path}`, () => {
      expect(fidPath(3, fid)).toBe(path);
      expect(parseFidPath(path)).toEqual({ devid: 3n, fid: BigInt(fid) });
    });
  }

  it('matches URLs the original tracker handed out (tracker.jsonl)', () => {
    expect(fidPath(1, 900003)).toBe('/dev1/0/000/900/0000900003.fid');
    expect(fidPath(2, 5)).toBe('/dev2/0/000/000/0000000005.fid');
  });

  it('refuses negative, fractional and unsafe numbers', () => {
    expect(() => fidPath(1, -1)).toThrow(/fid/);
    expect(() => fidPath(1, 1.5)).toThrow(/fid/);
    expect(() => fidPath(-2, 1)).toThrow(/devid/);
    expect(() => fidPath(1, 2 ** 60)).toThrow(/fid/);
  });

  it('parseFidPath rejects paths that are not canonical', () => {
    expect(parseFidPath('/dev1/0/000/001/0000000001.fid')).toBeNull();
    expect(parseFidPath('/dev1/0/000/000/1.fid')).toBeNull();
    expect(parseFidPath('/dev1/test-write/test-write-1')).toBeNull();
  });
});
