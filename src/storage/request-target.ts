/**
 * Turns an HTTP request target (or a side-channel URI) into docroot-relative path segments,
 * refusing everything that could name a file outside the docroot. Pure: no I/O; the
 * filesystem half of the confinement (symlinks) lives in confined-fs.ts.
 */

export type TargetResult =
  | { readonly ok: true; readonly segments: readonly string[] }
  | { readonly ok: false; readonly status: 400 | 403 | 404; readonly detail: string };

/** spec/storage-node.md §3.3: Perlbal's conservative filename rule, one segment at a time. */
const SAFE_SEGMENT = /^[A-Za-z0-9_.-]+$/;
const DEVICE_SEGMENT = /^dev\d+$/;

export const INVALID_FILENAME = 'Invalid filename';
export const BOGUS_URL = 'Bogus URL';

/** Strips `scheme://authority` from an absolute-URI target, then query and fragment. */
export function stripTarget(rawTarget: string): string | null {
  let target = rawTarget;
  const absolute = /^[A-Za-z][A-Za-z0-9+.-]*:\/\/[^/?#]*/.exec(target);
  if (absolute) target = target.slice(absolute[0].length) || '/';
  const cut = target.search(/[?#]/);
  if (cut >= 0) target = target.slice(0, cut);
  return target.startsWith('/') ? target : null;
}

function decode(path: string): string | null {
  try {
    const decoded = decodeURIComponent(path);
    // A NUL (or any control byte) never names a real file and truncates C strings.
    return /[\u0000-\u001f\u007f]/.test(decoded) ? null : decoded;
  } catch {
    return null;
  }
}

/**
 * GET/HEAD and side-channel targets. Doubled slashes and `.` segments are harmless and
 * dropped (`mogadm check` asks for `//devN/usage`); a `..` segment is refused with 403 as
 * Perlbal does (§3.1). Names starting with a dot are the node's own temp files: 404.
 */
export function parseReadTarget(rawTarget: string): TargetResult {
  const stripped = stripTarget(rawTarget);
  if (stripped === null) return { ok: false, status: 400, detail: 'Bad request target' };
  const decoded = decode(stripped);
  if (decoded === null) return { ok: false, status: 400, detail: 'Bad request target' };
  const segments: string[] = [];
  for (const segment of decoded.split('/')) {
    if (segment === '' || segment === '.') continue;
    if (segment === '..') return { ok: false, status: 403, detail: BOGUS_URL };
    if (segment.startsWith('.')) return { ok: false, status: 404, detail: '' };
    segments.push(segment);
  }
  return { ok: true, segments };
}

/**
 * PUT/DELETE/MKCOL targets (§3.3, §3.4): every segment must pass the filename rule, no
 * `..` anywhere, no empty or dot-led segments, and the first segment must be a `devN`
 * folder with at least one name below it. `allowTrailingSlash` is for MKCOL's `dir/`.
 */
export function parseWriteTarget(rawTarget: string, allowTrailingSlash = false): TargetResult {
  const stripped = stripTarget(rawTarget);
  if (stripped === null) return { ok: false, status: 400, detail: INVALID_FILENAME };
  let decoded = decode(stripped);
  if (decoded === null || decoded.includes('..')) {
    return { ok: false, status: 400, detail: INVALID_FILENAME };
  }
  if (allowTrailingSlash && decoded.length > 1 && decoded.endsWith('/')) {
    decoded = decoded.slice(0, -1);
  }
  const segments = decoded.slice(1).split('/');
  for (const segment of segments) {
    if (!SAFE_SEGMENT.test(segment) || segment.startsWith('.')) {
      return { ok: false, status: 400, detail: INVALID_FILENAME };
    }
  }
  if (segments.length < 2 || !DEVICE_SEGMENT.test(segments[0]!)) {
    return { ok: false, status: 400, detail: 'Does not meet minimum directory requirement' };
  }
  if (segments.length === 2 && segments[1] === 'usage') {
    // The node owns the usage file (§4); a client must not replace it.
    return { ok: false, status: 403, detail: 'The usage file is written by the node' };
  }
  return { ok: true, segments };
}
