import { MogileClientError } from '../client/index.js';

/** Exit codes of the file commands: 1 for a failed operation, 2 for a usage error. */
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;

/** What the command was working on, to name it in the message. */
export interface ErrorContext {
  readonly domain: string;
  readonly key?: string | undefined;
  readonly toKey?: string | undefined;
  readonly className?: string | undefined;
}

/** One line for stderr, without the `mogile: ` prefix. */
export function describeError(error: unknown, context: ErrorContext): string {
  if (!(error instanceof MogileClientError)) {
    return error instanceof Error ? error.message : String(error);
  }
  const domain = JSON.stringify(context.domain);
  const key = JSON.stringify(context.key ?? '');
  switch (error.code) {
    case 'unknown_key':
    case 'invalid_key':
      return `unknown key ${key} in domain ${domain}`;
    case 'unreg_domain':
      return `unknown domain ${domain}`;
    case 'unreg_class':
    case 'class_not_found':
      return `unknown class ${JSON.stringify(context.className ?? '')} in domain ${domain}`;
    case 'key_exists':
      return `key ${JSON.stringify(context.toKey ?? '')} already exists in domain ${domain}`;
    case 'no_devices':
      return 'no storage device can take the file (are devices alive and writeable?)';
    default:
      return error.fromTracker ? `${error.code}: ${error.message}` : error.message;
  }
}

export function isUsageError(error: unknown): boolean {
  return error instanceof MogileClientError && error.code === 'EINVALID_ARG';
}
