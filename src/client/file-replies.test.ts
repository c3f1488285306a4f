import { describe, expect, it } from 'vitest';
import { MogileClientError } from './errors.js';
import { parseLocatedFile } from './file-replies.js';

describe('parseLocatedFile', () => {
  const reply = (pairs: Record<string, string>) => new Map(Object.entries(pairs));

  it('reads paths, length and checksum when the tracker sends them', () => {
    expect(
      parseLocatedFile(
        reply({
          paths: '1',
          path1: 'http://n/dev1/x.fid',
          domain: 'd',
          key: 'k',
          fid: '7',
          length: '3',
          checksum: 'MD5:ab',
        }),
        'd',
        'k',
      ),
    ).toEqual({ paths: ['http://n/dev1/x.fid'], fid: 7, lengthBytes: 3, checksum: 'MD5:ab' });
  });

  it('accepts a reply without echo pairs, as other trackers send', () => {
    expect(parseLocatedFile(reply({ paths: '0' }), 'd', 'k').paths).toEqual([]);
  });

  it('refuses a reply that names another key or domain', () => {
    for (const pairs of [
      { paths: '0', domain: 'd', key: 'other' },
      { paths: '0', domain: 'x', key: 'k' },
    ]) {
      let error: unknown;
      try {
        parseLocatedFile(reply(pairs), 'd', 'k');
      } catch (caught) {
        error = caught;
      }
      expect(error).toBeInstanceOf(MogileClientError);
      expect((error as MogileClientError).code).toBe('EECHO_MISMATCH');
    }
  });
});
