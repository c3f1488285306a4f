import { MogileClientError } from './errors.js';
import { parseTrackerAddress } from './tracker-address.js';
import type { TrackerPoolOptions } from './tracker-pool.js';

/** Options shared by MogileClient and MogileAdmin. */
export interface TrackerClientOptions {
  /** `host:port` of each tracker. */
  readonly trackers: readonly string[];
  /** Whole-reply timeout per tracker request. */
  readonly timeoutMs?: number;
  /** Per connection attempt (the Perl client uses 250 ms; we allow for busy hosts). */
  readonly connectTimeoutMs?: number;
  /** How long a tracker that refused a connection is skipped. Default 5000. */
  readonly deadTrackerRetryMs?: number;
  /**
   * Idle tracker connections kept per tracker. Default 16: a client with more requests in
   * flight than this opens and closes a connection per request, which costs the tracker
   * more than the request itself.
   */
  readonly maxIdleConnections?: number;
  /** Idle tracker connections are closed after this. Default 30000. */
  readonly idleTimeoutMs?: number;
}

export function positiveNumber(options: object, name: string, fallback: number): number {
  const value = (options as Record<string, unknown>)[name];
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    throw invalidOption(name, `must be a positive number, got ${String(value)}`);
  }
  return value;
}

export function nonNegativeInteger(options: object, name: string, fallback: number): number {
  const value = (options as Record<string, unknown>)[name];
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0) {
    throw invalidOption(name, `must be a non-negative integer, got ${String(value)}`);
  }
  return value;
}

export function nonEmptyString(options: object, name: string): string {
  const value = (options as Record<string, unknown>)[name];
  if (typeof value !== 'string' || value === '') {
    throw invalidOption(name, 'must be a non-empty string');
  }
  return value;
}

export function invalidOption(name: string, problem: string): MogileClientError {
  return new MogileClientError('EINVALID_ARG', `${name}: ${problem}`);
}

/** Validates the tracker options eagerly, naming the option that is wrong. */
export function trackerPoolOptions(
  options: TrackerClientOptions,
  defaultTimeoutMs: number,
): TrackerPoolOptions {
  if (typeof options !== 'object' || options === null) {
    throw invalidOption('options', 'must be an object');
  }
  const trackers = options.trackers;
  if (!Array.isArray(trackers) || trackers.length === 0) {
    throw invalidOption('trackers', 'must be a non-empty array of host:port strings');
  }
  for (const tracker of trackers) {
    if (typeof tracker !== 'string') throw invalidOption('trackers', 'entries must be strings');
    parseTrackerAddress(tracker);
  }
  return Object.freeze({
    trackers: Object.freeze([...trackers]),
    requestTimeoutMs: positiveNumber(options, 'timeoutMs', defaultTimeoutMs),
    connectTimeoutMs: positiveNumber(options, 'connectTimeoutMs', 1000),
    deadTrackerRetryMs: positiveNumber(options, 'deadTrackerRetryMs', 5000),
    maxIdlePerTracker: nonNegativeInteger(options, 'maxIdleConnections', 16),
    idleTimeoutMs: positiveNumber(options, 'idleTimeoutMs', 30_000),
  });
}

/** Reads an integer field of a reply, or fails with EBAD_REPLY. */
export function intField(
  reply: ReadonlyMap<string, string>,
  name: string,
  command: string,
): number {
  const text = reply.get(name);
  const value = text === undefined || text === '' ? Number.NaN : Number(text);
  if (!Number.isSafeInteger(value)) {
    throw new MogileClientError(
      'EBAD_REPLY',
      `${command} reply has no valid ${name} (got ${JSON.stringify(text)})`,
      { command },
    );
  }
  return value;
}

/** An optional numeric field: undefined when absent or empty. */
export function optionalNumber(
  reply: ReadonlyMap<string, string>,
  name: string,
): number | undefined {
  const text = reply.get(name);
  if (text === undefined || text === '') return undefined;
  const value = Number(text);
  return Number.isFinite(value) ? value : undefined;
}

/** An optional text field: undefined when absent or empty. */
export function optionalText(reply: ReadonlyMap<string, string>, name: string): string | undefined {
  const text = reply.get(name);
  return text === undefined || text === '' ? undefined : text;
}
