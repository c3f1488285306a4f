import { describe, expect, it } from 'vitest';
import { checkSignature, signatureQuery, splitTarget } from './storage-signature.js';

const SECRET = 'a-test-secret-of-some-length';
const PATH = '/dev1/0/000/000/0000000042.fid';
const NOW = 1_700_000_000;

function signed(path: string, scope: 'r' | 'w', expiresAt = NOW + 60, secret = SECRET): string {
  return `${path}?${signatureQuery(secret, path, scope, expiresAt)}`;
}

describe('storage signatures', () => {
  it('accepts a fresh signature of the right scope', () => {
    expect(checkSignature(SECRET, signed(PATH, 'w'), 'w', NOW)).toBe('ok');
    expect(checkSignature(SECRET, signed(PATH, 'r'), 'r', NOW)).toBe('ok');
    // A write signature also reads; an absolute URL is checked on its path.
    expect(checkSignature(SECRET, signed(PATH, 'w'), 'r', NOW)).toBe('ok');
    expect(checkSignature(SECRET, `http://10.0.0.1:7500${signed(PATH, 'w')}`, 'w', NOW)).toBe('ok');
  });

  it('refuses missing, expired, read-only, foreign and tampered signatures', () => {
    expect(checkSignature(SECRET, PATH, 'w', NOW)).toBe('missing');
    expect(checkSignature(SECRET, signed(PATH, 'w', NOW - 1), 'w', NOW)).toBe('expired');
    expect(checkSignature(SECRET, signed(PATH, 'r'), 'w', NOW)).toBe('scope');
    expect(
      checkSignature(SECRET, signed(PATH, 'w', NOW + 60, 'another-secret-xxxxx'), 'w', NOW),
    ).toBe('mismatch');
    // The signature of one path never covers another, however it is spelled.
    const query = signed(PATH, 'w').split('?')[1];
    for (const other of [
      '/dev1/0/000/000/0000000043.fid',
      '//dev1/0/000/000/0000000042.fid',
      '/dev1/0/000/000/%30000000042.fid',
      '/dev1/0/000/000/../000/0000000042.fid',
    ]) {
      expect(checkSignature(SECRET, `${other}?${query}`, 'w', NOW), other).toBe('mismatch');
    }
    // Raising the expiry or widening the scope breaks the MAC.
    const later = signed(PATH, 'w').replace(/expires=\d+/, `expires=${NOW + 999_999}`);
    expect(checkSignature(SECRET, later, 'w', NOW)).toBe('mismatch');
    const widened = signed(PATH, 'r').replace('scope=r', 'scope=w');
    expect(checkSignature(SECRET, widened, 'w', NOW)).toBe('mismatch');
  });

  it('calls half-written signatures malformed', () => {
    for (const query of ['expires=1', 'scope=w&signature=abc', 'expires=x&scope=w&signature=a']) {
      expect(checkSignature(SECRET, `${PATH}?${query}`, 'w', NOW), query).toBe('malformed');
    }
  });

  it('splits targets into path and query', () => {
    expect(splitTarget('http://h:1/a/b?x=1#f')).toEqual({ path: '/a/b', query: 'x=1' });
    expect(splitTarget('/a?')).toEqual({ path: '/a', query: '' });
    expect(splitTarget('/a')).toEqual({ path: '/a', query: '' });
  });
});
