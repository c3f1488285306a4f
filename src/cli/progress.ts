import { Transform, type TransformCallback } from 'node:stream';
import { SingleBar } from 'cli-progress';

/** Transfers smaller than this finish too fast for a bar to help. */
export const PROGRESS_MIN_BYTES = 4 * 1024 * 1024;

/** A byte counter that draws a bar on stderr, or does nothing when that would not help. */
export interface TransferProgress {
  update(doneBytes: number): void;
  stop(): void;
}

const NO_PROGRESS: TransferProgress = { update() {}, stop() {} };

/**
 * A progress bar on stderr, only when stderr is a terminal and the size is known and
 * large: pipes and logs get no control characters.
 */
export function transferProgress(
  label: string,
  totalBytes: number | undefined,
  stream: NodeJS.WriteStream = process.stderr,
): TransferProgress {
  if (!stream.isTTY || totalBytes === undefined || totalBytes < PROGRESS_MIN_BYTES) {
    return NO_PROGRESS;
  }
  const bar = new SingleBar({
    stream,
    format: `${label} [{bar}] {percentage}% | {done}/{size} | {eta_formatted}`,
    hideCursor: true,
    clearOnComplete: true,
    etaBuffer: 50,
  });
  const size = formatBytes(totalBytes);
  bar.start(totalBytes, 0, { done: formatBytes(0), size });
  return {
    update(doneBytes) {
      bar.update(doneBytes, { done: formatBytes(doneBytes), size });
    },
    stop() {
      bar.stop();
    },
  };
}

/** A pass-through stream that reports how many bytes went through. */
export function countingStream(progress: TransferProgress): Transform {
  let doneBytes = 0;
  return new Transform({
    transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback) {
      doneBytes += chunk.length;
      progress.update(doneBytes);
      callback(null, chunk);
    },
  });
}

export function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${value} ${units[unit]}` : `${value.toFixed(1)} ${units[unit]}`;
}
