import { performance } from 'node:perf_hooks';
import type { KyselyConfig, LogEvent } from 'kysely';

/** One statement the store ran (transaction control included), as a query observer sees it. */
export interface QueryEvent {
  readonly sql: string;
  readonly parameters: readonly unknown[];
  readonly durationMs: number;
  /** Set when the statement failed. */
  readonly error?: unknown;
}

/** Told of every statement the store executes; must be quick and must not throw. */
export type QueryObserver = (event: QueryEvent) => void;

/**
 * Kysely's `log` option for an observer. Without one the option is left out, so Kysely
 * adds no timing or wrapping at all: an unset observer costs nothing.
 */
export function kyselyLogOption(observer: QueryObserver | undefined): Pick<KyselyConfig, 'log'> {
  if (!observer) return {};
  return {
    log(event: LogEvent) {
      observer({
        sql: event.query.sql,
        parameters: event.query.parameters,
        durationMs: event.queryDurationMillis,
        ...(event.level === 'error' && { error: event.error }),
      });
    },
  };
}

/**
 * Times one statement run outside Kysely (which reports its own through `log`): call the
 * result when it ends, with its error if it failed.
 */
export function observeStatement(
  observer: QueryObserver,
  sql: string,
  parameters: readonly unknown[],
): (error?: unknown) => void {
  const startedMs = performance.now();
  return (error) =>
    observer({
      sql,
      parameters,
      durationMs: performance.now() - startedMs,
      ...(error !== undefined && { error }),
    });
}
