import type { TrackerConfig } from '../tracker/config.js';
import type { QueryStats } from '../tracker/query-stats.js';
import type { RecentLog } from '../tracker/recent-log.js';
import type { TrackerServices } from '../tracker/services.js';

/** What the HTTP side reads from a running tracker (a subset of RunningTracker). */
export interface WebSources {
  readonly config: TrackerConfig;
  readonly services: TrackerServices;
  readonly stats: QueryStats;
  readonly recentLog: RecentLog;
  /** `host:port` of the tracker's own protocol listener, for the gateway's client. */
  readonly trackerAddress: string;
}
