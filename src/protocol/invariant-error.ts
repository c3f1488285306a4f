import { MogileError } from './errors.js';

/**
 * A broken internal invariant (architecture.md §4 rule 5). The client only sees
 * `ERR invariant_violation <default text>`; `detail` is for the log, which must say
 * loudly what broke.
 */
export class InvariantError extends MogileError {
  readonly detail: string;

  constructor(detail: string) {
    super('invariant_violation');
    this.name = 'InvariantError';
    this.detail = detail;
  }
}
