import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { formatBytes, PROGRESS_MIN_BYTES, transferProgress } from '../../src/cli/progress.js';

describe('transfer progress', () => {
  it('draws nothing when stderr is not a terminal or the transfer is small', () => {
    const written: string[] = [];
    const pipe = Object.assign(new PassThrough(), {
      isTTY: false,
    }) as unknown as NodeJS.WriteStream;
    (pipe as unknown as PassThrough).on('data', (chunk: Buffer) => written.push(chunk.toString()));
    const progress = transferProgress('put k', PROGRESS_MIN_BYTES * 2, pipe);
    progress.update(10);
    progress.stop();
    const tty = Object.assign(new PassThrough(), { isTTY: true }) as unknown as NodeJS.WriteStream;
    transferProgress('put k', 10, tty).stop();
    transferProgress('put k', undefined, tty).stop();
    expect(written).toEqual([]);
  });

  it('formats sizes in binary units', () => {
    expect(formatBytes(512)).toBe('512 B');
    expect(formatBytes(1536)).toBe('1.5 KiB');
    expect(formatBytes(5 * 1024 * 1024)).toBe('5.0 MiB');
  });
});
