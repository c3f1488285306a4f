import { openMetaStore } from '../../meta/index.js';

/**
 * After a group's stores, gives a local cluster's PostgreSQL database the planner
 * statistics that autovacuum gathers within about a minute on any running server (pgbench,
 * too, analyzes after loading). A tracker analyzes such tables when it starts, but the
 * bench's tracker starts on an empty database, and the bench measures the steady state,
 * not that first minute. Other engines pick their indexes without statistics.
 */
export async function refreshPlannerStatistics(url: string | undefined): Promise<void> {
  if (url === undefined || !/^postgres(ql)?:\/\//i.test(url)) return;
  const store = await openMetaStore(url, { poolSize: 1 });
  try {
    await store.analyzeTablesWithoutStatistics();
  } finally {
    await store.close();
  }
}
