import { setTimeout as delay } from 'node:timers/promises';
import type { Command } from 'commander';
import { integerOption, secondsOption, write } from './admin-runner.js';

/** `--watch [seconds]` and `--count N`, for status views of long work. */
export function addWatchOptions(command: Command): Command {
  return command
    .option('--watch [seconds]', 'redraw every SECONDS (default 2) until Ctrl-C', secondsOption)
    .option('--count <n>', 'with --watch: stop after N views', integerOption(1));
}

export interface WatchOptions {
  /** Seconds between views; `true` when `--watch` had no value. */
  readonly watch?: number | true | undefined;
  readonly count?: number | undefined;
}

export function isWatching(options: WatchOptions): boolean {
  return options.watch !== undefined;
}

/**
 * Draws `view` every interval until Ctrl-C or `count` views. On a terminal each view
 * replaces the last; into a pipe or file the views follow one another, separated by a
 * blank line, so a log keeps the history. `view` gets the previous sample to compute
 * rates from.
 */
export async function watchLoop<S>(
  options: WatchOptions,
  sample: () => Promise<S>,
  view: (current: S, previous: S | undefined, elapsedSeconds: number) => string,
): Promise<void> {
  const intervalMs =
    (options.watch === true || options.watch === undefined ? 2 : options.watch) * 1000;
  const tty = process.stdout.isTTY === true;
  const stopper = new AbortController();
  const onSignal = () => stopper.abort();
  process.once('SIGINT', onSignal);
  try {
    let previous: { value: S; at: number } | undefined;
    for (let shown = 0; options.count === undefined || shown < options.count; shown++) {
      if (shown > 0) {
        try {
          await delay(intervalMs, undefined, { signal: stopper.signal });
        } catch {
          break;
        }
      }
      const value = await sample();
      const at = performance.now();
      const elapsed = previous ? (at - previous.at) / 1000 : 0;
      const text = view(value, previous?.value, elapsed);
      const stamp = `${new Date().toISOString().replace('T', ' ').slice(0, 19)}  (every ${intervalMs / 1000}s, Ctrl-C to stop)\n\n`;
      // Clear the screen and home the cursor: a redraw, not a scroll.
      await write(
        process.stdout,
        tty ? `\x1b[H\x1b[2J${stamp}${text}` : `${shown > 0 ? '\n' : ''}${stamp}${text}`,
      );
      previous = { value, at };
      if (stopper.signal.aborted) break;
    }
  } finally {
    process.off('SIGINT', onSignal);
  }
}

/** A text progress bar: block characters on a terminal, `#` and `.` elsewhere. */
export function progressBar(fraction: number, width = 30): string {
  const clamped = Number.isFinite(fraction) ? Math.min(1, Math.max(0, fraction)) : 0;
  const done = Math.round(clamped * width);
  const [full, empty] = process.stdout.isTTY ? ['█', '░'] : ['#', '.'];
  return `[${full.repeat(done)}${empty.repeat(width - done)}] ${(clamped * 100).toFixed(1).padStart(5)}%`;
}

/** A per-second rate between two samples, or undefined for the first view. */
export function ratePerSecond(
  current: number,
  previous: number | undefined,
  elapsedSeconds: number,
): number | undefined {
  if (previous === undefined || elapsedSeconds <= 0) return undefined;
  return (current - previous) / elapsedSeconds;
}
