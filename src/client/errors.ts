/**
 * Codes the client raises itself. Tracker errors keep the tracker's own code
 * (`unknown_key`, `none_match`, …, spec/tracker-protocol.md §8), so callers match on one
 * `code` field whichever side failed.
 */
export const CLIENT_ERROR_CODES = {
  /** The tracker did not send its complete reply line within the request timeout. */
  ETRACKER_TIMEOUT: 'ETRACKER_TIMEOUT',
  /** Connecting to a tracker took longer than the connect timeout. */
  ECONNECT_TIMEOUT: 'ECONNECT_TIMEOUT',
  /** The reply echoed another request's callid (client-expectations.md §9.4). */
  ECALLID_MISMATCH: 'ECALLID_MISMATCH',
  /** A line that is neither `OK …` nor `ERR …`, or data nobody asked for. */
  EPROTOCOL: 'EPROTOCOL',
  /** The tracker connection failed or closed mid-request. */
  ETRACKER_SOCKET: 'ETRACKER_SOCKET',
  /** No tracker in the list could be reached. */
  ENO_TRACKER: 'ENO_TRACKER',
  /** A connection was asked to do something after it was destroyed or while busy. */
  ECONNECTION_STATE: 'ECONNECTION_STATE',
  /** The bytes read or written do not match the recorded checksum. */
  ECHECKSUM_MISMATCH: 'ECHECKSUM_MISMATCH',
  /** A storage node failed, refused or answered with an unexpected status. */
  ESTORAGE: 'ESTORAGE',
  /** The tracker returned no path (or no destination) for the file. */
  ENO_PATHS: 'ENO_PATHS',
  /** The tracker replied OK but without the fields the command promises. */
  EBAD_REPLY: 'EBAD_REPLY',
  /** The caller's AbortSignal fired. */
  EABORTED: 'EABORTED',
  /** An option or argument was invalid. */
  EINVALID_ARG: 'EINVALID_ARG',
} as const;

export type ClientErrorCode = keyof typeof CLIENT_ERROR_CODES;

export interface MogileClientErrorDetails {
  /** The tracker command being run, if any. */
  readonly command?: string | undefined;
  /** `host:port` of the tracker or the storage URL involved. */
  readonly target?: string | undefined;
  /** True when the code came from an `ERR` line of the tracker. */
  readonly fromTracker?: boolean;
  readonly cause?: unknown;
}

/** The one error class the client library throws (undici style: match on `code`). */
export class MogileClientError extends Error {
  /** A tracker error code (`unknown_key`, …) or one of CLIENT_ERROR_CODES. */
  readonly code: string;
  readonly command: string | undefined;
  readonly target: string | undefined;
  /** True when the tracker answered `ERR <code>`: the request reached it and was refused. */
  readonly fromTracker: boolean;

  constructor(code: string, message: string, details: MogileClientErrorDetails = {}) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.name = 'MogileClientError';
    this.code = code;
    this.command = details.command;
    this.target = details.target;
    this.fromTracker = details.fromTracker ?? false;
  }
}

export function isMogileClientError(error: unknown, code?: string): error is MogileClientError {
  return error instanceof MogileClientError && (code === undefined || error.code === code);
}
