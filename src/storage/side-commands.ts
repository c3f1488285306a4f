/** One parsed side-channel line (spec/storage-node.md §5). Pure. */
export type SideCommand =
  | { readonly kind: 'empty' }
  | { readonly kind: 'size'; readonly uri: string }
  | {
      readonly kind: 'digest';
      readonly algorithm: 'MD5' | 'SHA-1';
      readonly uri: string;
      readonly reason: string | undefined;
    }
  | { readonly kind: 'watch' }
  | { readonly kind: 'shutdown'; readonly graceful: boolean }
  | { readonly kind: 'unknown'; readonly word: string };

/**
 * Parses a line without its LF (a trailing CR is dropped). The algorithm words are
 * case-sensitive; `watch` is not. Anything else is reported by its first word, lower-cased,
 * as the reference's management console did (`SHA-256 ...` -> `sha`, transcript side.sha256).
 */
export function parseSideCommand(rawLine: string): SideCommand {
  const line = rawLine.endsWith('\r') ? rawLine.slice(0, -1) : rawLine;
  if (line === '') return { kind: 'empty' };
  const digest = /^(MD5|SHA-1)\s+(\/\S*)(?:\s+(\w+))?\s*$/.exec(line);
  if (digest) {
    return {
      kind: 'digest',
      algorithm: digest[1] as 'MD5' | 'SHA-1',
      uri: digest[2]!,
      reason: digest[3],
    };
  }
  const size = /^size\s+(\/\S*)\s*$/.exec(line);
  if (size) return { kind: 'size', uri: size[1]! };
  const trimmed = line.trim().toLowerCase();
  if (trimmed === 'watch') return { kind: 'watch' };
  if (trimmed === 'shutdown') return { kind: 'shutdown', graceful: false };
  if (/^shutdown\s+graceful$/.test(trimmed)) return { kind: 'shutdown', graceful: true };
  return { kind: 'unknown', word: (/^\s*(\w*)/.exec(line)?.[1] ?? '').toLowerCase() };
}
