import { describe, expect, it } from 'vitest';
import {
  DEFAULT_POLICY,
  formatReplicationPolicy,
  PolicyParseError,
  parseReplicationPolicy,
} from './replication-policy.js';

describe('parseReplicationPolicy', () => {
  it('reads the built-in policies with and without counts', () => {
    expect(parseReplicationPolicy('MultipleHosts()')).toEqual({ kind: 'MultipleHosts', count: 0 });
    expect(parseReplicationPolicy('MultipleHosts(3)')).toEqual({ kind: 'MultipleHosts', count: 3 });
    expect(parseReplicationPolicy(' MultipleDevices ( 0 ) ')).toEqual({
      kind: 'MultipleDevices',
      count: 0,
    });
  });

  it('treats blank and null as the default policy', () => {
    expect(parseReplicationPolicy(null)).toBe(DEFAULT_POLICY);
    expect(parseReplicationPolicy('  ')).toBe(DEFAULT_POLICY);
  });

  it('accepts whitespace and newlines around every token and a trailing comma in Union', () => {
    const policy = parseReplicationPolicy('Union ( MultipleHosts ( 5 ) ,\n MultipleHosts ( 2 ), )');
    expect(policy).toEqual({
      kind: 'Union',
      policies: [
        { kind: 'MultipleHosts', count: 5 },
        { kind: 'MultipleHosts', count: 2 },
      ],
    });
    expect(formatReplicationPolicy(policy)).toBe('Union(MultipleHosts(5), MultipleHosts(2))');
  });

  it('ignores text after the top-level policy, like the original', () => {
    expect(parseReplicationPolicy('MultipleHosts(3) junk')).toEqual({
      kind: 'MultipleHosts',
      count: 3,
    });
  });

  it('rejects unknown names, plugin classes and malformed arguments with a message', () => {
    expect(() => parseReplicationPolicy('Bogus()')).toThrow(
      /Failed to load replication policy class Bogus/,
    );
    expect(() => parseReplicationPolicy('My::Plugin()')).toThrow(PolicyParseError);
    expect(() => parseReplicationPolicy('MultipleHosts(')).toThrow(
      /expected "\)" at end of string/,
    );
    expect(() => parseReplicationPolicy('MultipleHosts(x)')).toThrow(
      /Failed to parse policy string/,
    );
    expect(() => parseReplicationPolicy('Union()')).toThrow(/expected a policy name/);
    expect(() => parseReplicationPolicy('(3)')).toThrow(/expected a policy name at position 1/);
  });
});
