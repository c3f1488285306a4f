/**
 * Replication policy strings (spec behaviour.md §5.1), e.g. `MultipleHosts(3)` or
 * `Union(MultipleHosts(2), MultipleDevices())`. A count of 0 or an empty count means
 * "use the class's mindevcount".
 */
export type ReplicationPolicy =
  | { readonly kind: 'MultipleHosts'; readonly count: number }
  | { readonly kind: 'MultipleDevices'; readonly count: number }
  | { readonly kind: 'Union'; readonly policies: readonly ReplicationPolicy[] };

export class PolicyParseError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PolicyParseError';
  }
}

export const DEFAULT_POLICY: ReplicationPolicy = { kind: 'MultipleHosts', count: 0 };

/** Parses a stored policy; null or blank is the default `MultipleHosts()`. */
export function parseReplicationPolicy(text: string | null | undefined): ReplicationPolicy {
  if (text === null || text === undefined || text.trim() === '') return DEFAULT_POLICY;
  const parser = new PolicyParser(text);
  // Text after the top-level policy is ignored, as in the original (§5.1).
  return parser.policy();
}

export function formatReplicationPolicy(policy: ReplicationPolicy): string {
  if (policy.kind === 'Union') {
    return `Union(${policy.policies.map(formatReplicationPolicy).join(', ')})`;
  }
  return `${policy.kind}(${policy.count === 0 ? '' : policy.count})`;
}

class PolicyParser {
  readonly #text: string;
  #pos = 0;

  constructor(text: string) {
    this.#text = text;
  }

  policy(): ReplicationPolicy {
    this.#skipSpace();
    const name = /^[A-Za-z0-9_:]+/.exec(this.#text.slice(this.#pos))?.[0];
    if (name === undefined) this.#fail('expected a policy name');
    this.#pos += name.length;
    if (name === 'MultipleHosts' || name === 'MultipleDevices') {
      return { kind: name, count: this.#count() };
    }
    if (name === 'Union') return { kind: 'Union', policies: this.#unionArgs() };
    throw new PolicyParseError(
      `Failed to load replication policy class ${name}: mogile knows MultipleHosts, MultipleDevices and Union`,
    );
  }

  #count(): number {
    this.#expect('(');
    this.#skipSpace();
    const digits = /^\d*/.exec(this.#text.slice(this.#pos))![0];
    this.#pos += digits.length;
    this.#expect(')');
    const count = digits === '' ? 0 : Number(digits);
    if (count > 255) this.#fail('a count must be at most 255');
    return count;
  }

  #unionArgs(): ReplicationPolicy[] {
    this.#expect('(');
    const policies = [this.policy()];
    for (;;) {
      this.#skipSpace();
      if (this.#peek() === ')') break;
      this.#expect(',');
      this.#skipSpace();
      if (this.#peek() === ')') break;
      policies.push(this.policy());
    }
    this.#expect(')');
    return policies;
  }

  #expect(char: string): void {
    this.#skipSpace();
    if (this.#peek() !== char) this.#fail(`expected "${char}"`);
    this.#pos += 1;
  }

  #peek(): string | undefined {
    return this.#text[this.#pos];
  }

  #skipSpace(): void {
    while (/\s/.test(this.#text[this.#pos] ?? '')) this.#pos += 1;
  }

  #fail(what: string): never {
    const at = this.#pos >= this.#text.length ? 'end of string' : `position ${this.#pos + 1}`;
    throw new PolicyParseError(
      `Failed to parse policy string: ${what} at ${at} of "${this.#text}"`,
    );
  }
}
