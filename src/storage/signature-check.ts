import type { IncomingMessage } from 'node:http';
import { checkSignature, type SignatureCheck, splitTarget } from '../protocol/storage-signature.js';
import type { SigningPolicy } from './node-context.js';

const READ_METHODS: ReadonlySet<string> = new Set(['GET', 'HEAD']);

/**
 * Whether a request may go on under the node's signing policy (docs/security.md). Writes
 * always need a `w` signature; reads need an `r` or `w` one when the policy says so, except
 * `/`, the usage files and the stats path, which `mogadm check` and monitors read unsigned
 * and which hold no file data.
 */
export function requestSignature(
  policy: SigningPolicy | undefined,
  req: IncomingMessage,
  statsPath: string,
  nowSeconds: number = Math.floor(Date.now() / 1000),
): SignatureCheck {
  if (!policy) return 'ok';
  const method = req.method ?? '';
  const target = req.url ?? '';
  if (READ_METHODS.has(method)) {
    if (!policy.appliesToGet || isOpenReadPath(splitTarget(target).path, statsPath)) return 'ok';
    return checkSignature(policy.secret, target, 'r', nowSeconds);
  }
  return checkSignature(policy.secret, target, 'w', nowSeconds);
}

function isOpenReadPath(path: string, statsPath: string): boolean {
  return path === '/' || path === statsPath || /^\/+dev\d+\/usage$/.test(path);
}
