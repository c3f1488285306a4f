import { describe, expect, it } from 'vitest';
import { isNetwork, NetworkAllowList } from './network-allow-list.js';

describe('NetworkAllowList', () => {
  it('allows everyone when empty', () => {
    expect(new NetworkAllowList([]).allows('203.0.113.9')).toBe(true);
  });

  it('matches IPv4 networks, IPv4-mapped addresses and IPv6', () => {
    const list = new NetworkAllowList(['10.1.0.0/16', '127.0.0.1', 'fd00::/8']);
    expect(list.allows('10.1.200.3')).toBe(true);
    expect(list.allows('::ffff:10.1.0.1')).toBe(true);
    expect(list.allows('127.0.0.1')).toBe(true);
    expect(list.allows('fd12::1')).toBe(true);
    expect(list.allows('10.2.0.1')).toBe(false);
    expect(list.allows('127.0.0.2')).toBe(false);
    expect(list.allows('::1')).toBe(false);
    expect(list.allows('not an ip')).toBe(false);
  });

  it('recognises networks', () => {
    for (const good of ['10.0.0.0/8', '1.2.3.4', '::1', 'fd00::/8', '0.0.0.0/0']) {
      expect(isNetwork(good), good).toBe(true);
    }
    for (const bad of ['10.0.0.0/33', '10.0.0/8', 'host', '1.2.3.4/8/1', '::/129', '']) {
      expect(isNetwork(bad), bad).toBe(false);
    }
  });
});
