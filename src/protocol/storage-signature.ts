import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * Signed storage URLs (docs/security.md). The tracker appends
 * `?expires=<unix seconds>&scope=<r|w>&signature=<base64url HMAC-SHA256>` to the paths it
 * hands out; storage nodes holding the same secret check it. `r` allows GET and HEAD only,
 * so a read URL that leaks cannot delete or overwrite the file; `w` (upload URLs and the
 * tracker's own requests) allows every method. The signed path is the request path exactly
 * as sent, so no decoding or normalisation can make one signature cover another file.
 */
export type SignatureScope = 'r' | 'w';

export type SignatureCheck = 'ok' | 'missing' | 'malformed' | 'expired' | 'scope' | 'mismatch';

function mac(secret: string, scope: SignatureScope, expiresAt: number, path: string): Buffer {
  return createHmac('sha256', secret).update(`${scope}\n${expiresAt}\n${path}`).digest();
}

/** The query string (without `?`) that signs `path` until `expiresAt` (unix seconds). */
export function signatureQuery(
  secret: string,
  path: string,
  scope: SignatureScope,
  expiresAt: number,
): string {
  const signature = mac(secret, scope, expiresAt, path).toString('base64url');
  return `expires=${expiresAt}&scope=${scope}&signature=${signature}`;
}

/** Splits a request target (path or absolute URL) into the signed path and its query. */
export function splitTarget(target: string): { path: string; query: string } {
  const absolute = /^[A-Za-z][A-Za-z0-9+.-]*:\/\/[^/?#]*/.exec(target);
  const rest = absolute ? target.slice(absolute[0].length) || '/' : target;
  const hash = rest.indexOf('#');
  const withoutFragment = hash >= 0 ? rest.slice(0, hash) : rest;
  const cut = withoutFragment.indexOf('?');
  return cut < 0
    ? { path: withoutFragment, query: '' }
    : { path: withoutFragment.slice(0, cut), query: withoutFragment.slice(cut + 1) };
}

/**
 * Checks a request target's signature. `needed` is the scope the method requires;
 * `nowSeconds` is the node's clock.
 */
export function checkSignature(
  secret: string,
  target: string,
  needed: SignatureScope,
  nowSeconds: number,
): SignatureCheck {
  const { path, query } = splitTarget(target);
  const params = new URLSearchParams(query);
  const expiresText = params.get('expires');
  const scope = params.get('scope');
  const signature = params.get('signature');
  if (expiresText === null && scope === null && signature === null) return 'missing';
  if (
    expiresText === null ||
    !/^\d{1,12}$/.test(expiresText) ||
    (scope !== 'r' && scope !== 'w') ||
    signature === null ||
    !/^[A-Za-z0-9_-]{43}$/.test(signature)
  ) {
    return 'malformed';
  }
  const expiresAt = Number(expiresText);
  const expected = mac(secret, scope, expiresAt, path);
  if (!timingSafeEqual(expected, Buffer.from(signature, 'base64url'))) return 'mismatch';
  if (expiresAt < nowSeconds) return 'expired';
  if (needed === 'w' && scope !== 'w') return 'scope';
  return 'ok';
}
