import { MogileClientError } from '../../client/index.js';

/** Exit codes, as for the file commands: 1 when the operation failed, 2 for usage. */
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;

/** A problem with the command line itself (exit 2). */
export class AdminUsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AdminUsageError';
  }
}

/** The operation was refused or failed for a reason the command found itself (exit 1). */
export class AdminFailure extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AdminFailure';
  }
}

/**
 * Tracker codes whose default text (spec tracker-protocol.md §8) does not say what to do;
 * the others read well as the tracker sends them.
 */
const HINTS: Readonly<Record<string, string>> = {
  state_too_high: 'mark the device down first, then alive',
  host_not_empty: 'mark its devices dead and remove them first',
  domain_has_classes: 'delete its classes first',
  fsck_running: 'stop it with "mogile admin fsck stop"',
  rebal_running: 'stop it with "mogile admin rebalance stop"',
  no_rebal_policy: 'set one with "mogile admin rebalance policy --options=…"',
  no_rebal_state: 'no rebalance has been started since the last reset',
  no_set_rebal: 'stop the rebalance first',
  not_writable: 'see "mogile admin settings list" and docs/admin-cli.md for writable keys',
};

/** One line for stderr, without the `mogile admin: ` prefix. */
export function describeAdminError(error: unknown, subject?: string): string {
  const where = subject ? `${subject}: ` : '';
  if (error instanceof MogileClientError) {
    if (!error.fromTracker) return error.message;
    const hint = HINTS[error.code];
    return `${where}${error.message} [${error.code}]${hint ? ` (${hint})` : ''}`;
  }
  if (error instanceof AdminFailure || error instanceof AdminUsageError) {
    return `${where}${error.message}`;
  }
  return error instanceof Error ? error.message : String(error);
}

export function exitCodeFor(error: unknown): number {
  if (error instanceof AdminUsageError) return EXIT_USAGE;
  if (error instanceof MogileClientError && error.code === 'EINVALID_ARG') return EXIT_USAGE;
  return EXIT_FAILURE;
}
