import { describe, expect, it } from 'vitest';
import { memoryLogger } from '../../test/helpers/memory-logger.js';
import type { StatisticsRefresh } from '../meta/dialect-adapter.js';
import type { MetaStore } from '../meta/index.js';
import { PlannerStatisticsWatch } from './planner-statistics.js';

/** A store that answers each look with the next of `answers` (the last one repeats). */
function storeAnswering(answers: readonly (StatisticsRefresh | Error)[]): MetaStore {
  let look = 0;
  return {
    async analyzeTablesWithoutStatistics() {
      const answer = answers[Math.min(look++, answers.length - 1)]!;
      if (answer instanceof Error) throw answer;
      return answer;
    },
  } as Partial<MetaStore> as MetaStore;
}

describe('PlannerStatisticsWatch', () => {
  it('logs what it analyzed, and warns once per table it may not analyze', async () => {
    const { logger, records } = memoryLogger('info');
    const watch = new PlannerStatisticsWatch(
      storeAnswering([
        { analyzed: ['file'], refused: ['file_on'] },
        { analyzed: [], refused: ['file_on'] },
        { analyzed: [], refused: ['file_on', 'checksum'] },
      ]),
      logger,
    );
    for (let look = 0; look < 4; look++) await watch.check();
    expect(records.map((record) => [record.level, record['tables']])).toEqual([
      [30, ['file']],
      [40, ['file_on']],
      [40, ['checksum']],
    ]);
  });

  it('warns when the look itself fails, and never throws', async () => {
    const { logger, records } = memoryLogger('info');
    const watch = new PlannerStatisticsWatch(storeAnswering([new Error('db down')]), logger);
    await expect(watch.check()).resolves.toBeUndefined();
    expect(records).toMatchObject([{ level: 40, err: { message: 'db down' } }]);
  });

  it('runs one look at a time, and stop waits for it', async () => {
    let release: () => void = () => undefined;
    let looks = 0;
    const store = {
      analyzeTablesWithoutStatistics: () => {
        looks += 1;
        return new Promise<StatisticsRefresh>((done) => {
          release = () => done({ analyzed: [], refused: [] });
        });
      },
    } as Partial<MetaStore> as MetaStore;
    const watch = new PlannerStatisticsWatch(store, undefined);
    const first = watch.check();
    const second = watch.check();
    expect(looks).toBe(1);
    let stopped = false;
    const stopping = watch.stop().then(() => {
      stopped = true;
    });
    await Promise.resolve();
    expect(stopped).toBe(false);
    release();
    await Promise.all([first, second, stopping]);
    expect(stopped).toBe(true);
  });
});
