import pino, { type DestinationStream, type Logger } from 'pino';
import type { RecentLog } from './recent-log.js';
import type { WatchHub } from './watch-hub.js';

/**
 * The tracker's pino logger: JSON lines to `destination` (stderr by default) and every
 * record of info level and above to the `!watch` connections (and warnings to `recent`).
 */
export function createTrackerLogger(
  debugLevel: number,
  watch: WatchHub,
  destination: DestinationStream = pino.destination(2),
  recent?: RecentLog,
): Logger {
  const level = debugLevel > 0 ? 'debug' : 'info';
  return pino(
    { level, base: { pid: process.pid, name: 'mogile-tracker' } },
    pino.multistream([
      { level, stream: destination },
      { level: 'info', stream: watch.logStream() },
      // Warnings and errors also go to a small ring the dashboard shows.
      ...(recent ? [{ level: 'warn' as const, stream: recent.logStream() }] : []),
    ]),
  );
}
