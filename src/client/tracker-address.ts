import { MogileClientError } from './errors.js';

/** Where one tracker listens. */
export interface TrackerAddress {
  readonly host: string;
  readonly port: number;
  /** `host:port` as given (IPv6 hosts in brackets), used in messages and events. */
  readonly label: string;
}

const HOST_PORT = /^(?:\[([0-9A-Fa-f:.]+)\]|([^:\s[\]]+)):(\d{1,5})$/;

/**
 * Parses `host:port` or `[v6]:port`. The port is required, as in the Perl client
 * (client-expectations.md §1.1).
 */
export function parseTrackerAddress(text: string, optionName = 'trackers'): TrackerAddress {
  const match = HOST_PORT.exec(text.trim());
  const port = match ? Number(match[3]) : Number.NaN;
  if (!match || !Number.isInteger(port) || port < 1 || port > 65_535) {
    throw new MogileClientError(
      'EINVALID_ARG',
      `${optionName}: expected host:port, got ${JSON.stringify(text)}`,
    );
  }
  const host = match[1] ?? match[2]!;
  return Object.freeze({ host, port, label: match[1] ? `[${host}]:${port}` : `${host}:${port}` });
}
