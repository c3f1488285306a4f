import { channel } from 'node:diagnostics_channel';

/**
 * The client logs nothing; it publishes on these channels (style.md, undici's model).
 * Subscribe with `diagnostics_channel.subscribe('mogile:client:request', fn)`.
 */

export interface RequestEvent {
  readonly event: 'start' | 'finish' | 'error';
  readonly command: string;
  /** `host:port` of the tracker. */
  readonly tracker: string;
  /** Set on `finish` and `error`. */
  readonly durationMs?: number;
  readonly error?: Error;
}

export interface ConnectionEvent {
  readonly event: 'connect' | 'destroy';
  readonly tracker: string;
  /** Why the connection was destroyed (`timeout`, `callid mismatch`, `closed`, …). */
  readonly reason?: string;
}

export interface ChecksumMismatchEvent {
  readonly key: string;
  readonly domain: string;
  /** The storage URL whose bytes did not match. */
  readonly path: string;
  readonly expected: string;
  readonly actual: string;
  /** True when bytes had already been handed to the caller (the stream then errors). */
  readonly afterFirstByte: boolean;
}

export const requestChannel = channel('mogile:client:request');
export const connectionChannel = channel('mogile:client:connection');
export const checksumMismatchChannel = channel('mogile:client:checksum-mismatch');

export function publishRequest(event: RequestEvent): void {
  if (requestChannel.hasSubscribers) requestChannel.publish(event);
}

export function publishConnection(event: ConnectionEvent): void {
  if (connectionChannel.hasSubscribers) connectionChannel.publish(event);
}

export function publishChecksumMismatch(event: ChecksumMismatchEvent): void {
  if (checksumMismatchChannel.hasSubscribers) checksumMismatchChannel.publish(event);
}
