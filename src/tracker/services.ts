/**
 * Everything a command handler may use. Built once per tracker by `startTracker`.
 * (Filled in as the metadata store and monitor land.)
 */
export interface TrackerServices {
  readonly hostname: string;
}
