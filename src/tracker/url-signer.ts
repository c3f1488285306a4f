import { type SignatureScope, signatureQuery, splitTarget } from '../protocol/storage-signature.js';
import type { UrlKind } from './storage-urls.js';

export interface UrlSignerOptions {
  /** The secret the storage nodes share (config `secret`). */
  readonly secret: string;
  /** How long a handed-out URL stays valid (config `secret_expiry`). */
  readonly expirySeconds: number;
  /** Unix time in seconds; injectable for tests. */
  readonly nowSeconds?: () => number;
}

/**
 * Signs storage URLs (docs/security.md): read URLs with scope `r` (GET and HEAD only),
 * upload URLs and the tracker's own requests with scope `w`. Any query a URL already has is
 * replaced, since storage URLs carry nothing else there.
 */
export class UrlSigner {
  readonly #secret: string;
  readonly #expirySeconds: number;
  readonly #now: () => number;

  constructor(options: UrlSignerOptions) {
    this.#secret = options.secret;
    this.#expirySeconds = options.expirySeconds;
    this.#now = options.nowSeconds ?? (() => Math.floor(Date.now() / 1000));
  }

  sign(url: string, kind: UrlKind): string {
    const base = unsignedUrl(url);
    const scope: SignatureScope = kind === 'read' ? 'r' : 'w';
    const { path } = splitTarget(base);
    return `${base}?${signatureQuery(this.#secret, path, scope, this.#now() + this.#expirySeconds)}`;
  }
}

/** A storage URL without its query (the signature), for comparing paths. */
export function unsignedUrl(url: string): string {
  const cut = url.search(/[?#]/);
  return cut < 0 ? url : url.slice(0, cut);
}
