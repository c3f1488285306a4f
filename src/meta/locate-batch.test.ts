import { describe, expect, it } from 'vitest';
import { LocateBatch } from './locate-batch.js';
import type { LocatedFile } from './rows.js';

function located(dmid: number, key: string): LocatedFile {
  return { file: { fid: key.length, dmid, key, length: 0, classid: 0, devcount: 1 }, devids: [1] };
}

function recording() {
  const calls: string[] = [];
  const batch = new LocateBatch({
    one: async (dmid, key) => {
      calls.push(`one ${dmid} ${key}`);
      return key === 'missing' ? undefined : located(dmid, key);
    },
    many: async (dmid, keys) => {
      calls.push(`many ${dmid} ${keys.join(',')}`);
      return new Map(keys.filter((k) => k !== 'missing').map((k) => [k, located(dmid, k)]));
    },
  });
  return { batch, calls };
}

describe('LocateBatch', () => {
  it('runs the lookups of one turn together, once per key and domain', async () => {
    const { batch, calls } = recording();
    const answers = await Promise.all([
      batch.locate(1, 'a'),
      batch.locate(1, 'bb'),
      batch.locate(1, 'a'),
      batch.locate(1, 'missing'),
      batch.locate(2, 'a'),
    ]);
    expect(calls).toEqual(['many 1 a,bb,missing', 'one 2 a']);
    expect(answers.map((answer) => answer && `${answer.file.dmid}/${answer.file.key}`)).toEqual([
      '1/a',
      '1/bb',
      '1/a',
      undefined,
      '2/a',
    ]);
    // A later turn is a new batch.
    expect((await batch.locate(1, 'missing'))?.file).toBeUndefined();
    expect(calls).toHaveLength(3);
  });

  it('fails every lookup of a batch whose statement fails, and only those', async () => {
    const batch = new LocateBatch({
      one: async () => located(1, 'x'),
      many: async () => {
        throw new Error('statement timeout');
      },
    });
    const failed = Promise.allSettled([batch.locate(1, 'a'), batch.locate(1, 'b')]);
    const other = batch.locate(2, 'c');
    expect((await failed).map((result) => result.status)).toEqual(['rejected', 'rejected']);
    expect((await other)?.file.key).toBe('x');
  });
});
