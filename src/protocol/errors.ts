/**
 * The one table of MogileFS tracker error codes (spec/tracker-protocol.md §8).
 * The codes are the wire contract: clients match on them, so they never change.
 * A code mapped to `undefined` has no default text; the text sent is then the code itself.
 */
export const ERROR_TEXTS = {
  dup: 'Duplicate name/number used.',
  after_mismatch: 'Pattern does not match the after-value?',
  bad_params: 'Invalid parameters to command; please see documentation',
  class_exists: 'That class already exists in that domain',
  class_has_files: 'Class still has files, unable to delete',
  class_not_found: 'Class not found',
  db: 'Database error',
  domain_has_files: 'Domain still has files, unable to delete',
  domain_exists: 'That domain already exists',
  domain_not_empty: 'Domain still has classes, unable to delete',
  domain_not_found: 'Domain not found',
  failure: 'Operation failed',
  host_exists: 'That host already exists',
  host_mismatch: "The device specified doesn't belong to the host specified",
  host_not_empty: 'Unable to delete host; it contains devices still',
  host_not_found: 'Host not found',
  invalid_checker_level: 'Checker level invalid.  Please see documentation on this command.',
  invalid_mindevcount: 'The mindevcount must be at least 1',
  key_exists: "Target key name already exists; can't overwrite.",
  no_class: 'No class provided',
  no_devices: 'No devices found to store file',
  no_device: 'Device not found',
  no_domain: 'No domain provided',
  no_host: 'No host provided',
  no_ip: 'IP required to create host',
  no_port: 'Port required to create host',
  no_temp_file: 'No tempfile or file already closed',
  none_match: 'No keys match that pattern and after-value (if any).',
  plugin_aborted: 'Action aborted by plugin',
  state_too_high: 'Status cannot go from dead to alive; must use down',
  unknown_command: 'Unknown server command',
  unknown_host: 'Host not found',
  unknown_state: 'Invalid/unknown state',
  unreg_domain: 'Domain name invalid/not found',
  rebal_not_started: 'Rebalance not running',
  no_rebal_state: 'No available rebalance status',
  no_rebal_policy: 'No rebalance policy available',
  nodel_default_class: 'Cannot delete the default class',
  // Codes without a default text in the original (the text is the code unless given).
  unreg_class: undefined,
  no_key: undefined,
  unknown_key: undefined,
  invalid_key: undefined,
  fid_in_use: undefined,
  fid_exists: undefined,
  no_fid: undefined,
  no_devid: undefined,
  no_path: undefined,
  invalid_checksum_format: undefined,
  bogus_args: undefined,
  invalid_destdev: undefined,
  size_verify_error: undefined,
  size_mismatch: undefined,
  checksum_mismatch: undefined,
  unknown_fid: undefined,
  invalid_state: undefined,
  invalid_devid: undefined,
  unknown_hostid: undefined,
  bad_args: undefined,
  existing_devid: undefined,
  domain_has_classes: undefined,
  invalid_replpolicy: undefined,
  invalid_hashtype: undefined,
  not_writable: undefined,
  invalid_format: undefined,
  copy_err: undefined,
  fsck_running: undefined,
  rebal_running: undefined,
  no_set_rebal: undefined,
  bad_rebal_pol: undefined,
  // mogile's own codes (docs/protocol-extensions.md).
  invariant_violation: 'An internal consistency check failed; the request was refused',
  db_busy: 'The metadata database is busy; try again',
  timeout: 'The request did not finish within its deadline',
  forbidden: 'This command is not allowed from your address',
  key_too_long: 'Keys are limited to 255 bytes',
  not_replicated:
    "The file was stored, but has not reached its class's copy count yet; replication continues",
} as const satisfies Record<string, string | undefined>;

export type ErrorCode = keyof typeof ERROR_TEXTS;

export function isErrorCode(code: string): code is ErrorCode {
  return Object.hasOwn(ERROR_TEXTS, code);
}

/** The text sent when a command gives none: the default text, else the code itself. */
export function defaultErrorText(code: ErrorCode): string {
  return ERROR_TEXTS[code] ?? code;
}

/**
 * The only error a command handler throws on purpose. Dispatch turns it into
 * `ERR <code> <text>`; anything else becomes `ERR failure`.
 */
export class MogileError extends Error {
  readonly code: ErrorCode;

  constructor(code: ErrorCode, text?: string) {
    super(text ?? defaultErrorText(code));
    this.name = 'MogileError';
    this.code = code;
  }
}
