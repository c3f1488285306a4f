import pino, { type DestinationStream, type Logger } from 'pino';
import type { WatchHub } from './watch-hub.js';

/**
 * The tracker's pino logger: JSON lines to `destination` (stderr by default) and every
 * record of info level and above to the `!watch` connections.
 */
export function createTrackerLogger(
  debugLevel: number,
  watch: WatchHub,
  destination: DestinationStream = pino.destination(2),
): Logger {
  const level = debugLevel > 0 ? 'debug' : 'info';
  return pino(
    { level, base: { pid: process.pid, name: 'mogile-tracker' } },
    pino.multistream([
      { level, stream: destination },
      { level: 'info', stream: watch.logStream() },
    ]),
  );
}
