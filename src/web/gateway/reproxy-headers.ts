/** Which proxy the gateway hands the transfer to. */
export type ReproxyFormat = 'perlbal' | 'nginx';

/**
 * Headers that make a front proxy fetch the file from a storage node itself.
 *
 * Perlbal reads `X-REPROXY-URL`: space-separated URLs tried in order, and
 * `X-REPROXY-EXPECTED-SIZE` to reject a short copy.
 *
 * nginx reads `X-Accel-Redirect` and restarts the request at that internal URI. We point
 * it into `prefix` followed by the node's address and path
 * (`/reproxy/10.0.0.5:7500/dev3/0/000/000/0000000042.fid`), which one `internal`
 * location turns back into a `proxy_pass` (docs/dashboard.md). `X-Reproxy-URL` carries
 * the full first URL too, for configurations that read it with `$upstream_http_…`.
 */
export function reproxyHeaders(
  format: ReproxyFormat,
  paths: readonly string[],
  lengthBytes: number,
  nginxPrefix: string,
): Record<string, string> {
  if (format === 'perlbal') {
    return {
      'X-REPROXY-URL': paths.join(' '),
      'X-REPROXY-EXPECTED-SIZE': String(lengthBytes),
    };
  }
  const first = new URL(paths[0]!);
  return {
    // The query (signed-URL parameters, docs/security.md) reaches nginx as `$args`.
    'X-Accel-Redirect': `${nginxPrefix}/${first.host}${first.pathname}${first.search}`,
    'X-Reproxy-URL': paths[0]!,
  };
}
