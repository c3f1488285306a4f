import { describe, expect, it } from 'vitest';
import { parseSideCommand } from './side-commands.js';

describe('parseSideCommand (spec/storage-node.md §5)', () => {
  it('parses size, MD5 and SHA-1 with an optional reason', () => {
    expect(parseSideCommand('size /dev1/x.fid\r')).toEqual({ kind: 'size', uri: '/dev1/x.fid' });
    expect(parseSideCommand('MD5 /dev1/x.fid')).toEqual({
      kind: 'digest',
      algorithm: 'MD5',
      uri: '/dev1/x.fid',
      reason: undefined,
    });
    expect(parseSideCommand('SHA-1 /dev1/x.fid fsck\r')).toMatchObject({
      algorithm: 'SHA-1',
      reason: 'fsck',
    });
  });

  it('treats watch case-insensitively and knows shutdown', () => {
    expect(parseSideCommand('WaTcH')).toEqual({ kind: 'watch' });
    expect(parseSideCommand('shutdown')).toEqual({ kind: 'shutdown', graceful: false });
    expect(parseSideCommand('shutdown graceful\r')).toEqual({ kind: 'shutdown', graceful: true });
  });

  it('reports unknown commands by their lower-cased first word, as the transcripts show', () => {
    expect(parseSideCommand('')).toEqual({ kind: 'empty' });
    expect(parseSideCommand('\r')).toEqual({ kind: 'empty' });
    expect(parseSideCommand('size')).toEqual({ kind: 'unknown', word: 'size' });
    expect(parseSideCommand('md5 /x')).toEqual({ kind: 'unknown', word: 'md5' });
    expect(parseSideCommand('SHA-256 /x')).toEqual({ kind: 'unknown', word: 'sha' });
    expect(parseSideCommand('Frobnicate')).toEqual({ kind: 'unknown', word: 'frobnicate' });
  });
});
