import { execFileSync } from 'node:child_process';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const DIST = resolve(import.meta.dirname, '..', '..', 'dist');

/**
 * The packages a fresh process has loaded after importing `modules` (from dist/), by the
 * folder under node_modules each loaded file comes from.
 */
function packagesLoadedBy(modules: readonly string[]): string[] {
  const script = [
    "import { createRequire } from 'node:module';",
    ...modules.map((module) => `await import(${JSON.stringify(resolve(DIST, module))});`),
    'const files = Object.keys(createRequire(import.meta.url).cache);',
    "const names = files.map((f) => /node_modules\\/((?:@[^/]+\\/)?[^/]+)/.exec(f)?.[1] ?? '');",
    'process.stdout.write(JSON.stringify([...new Set(names)].filter(Boolean).sort()));',
  ].join('\n');
  const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], {
    encoding: 'utf8',
  });
  return JSON.parse(out) as string[];
}

describe('the tracker process', () => {
  // Its requests to storage nodes go through node:http (docs/benchmarks.md, "The
  // tracker's memory"): undici's parser alone would add tens of MB to its peak RSS.
  it('does not load the HTTP client the client library uses', () => {
    const loaded = packagesLoadedBy(['cli/tracker-command.js', 'web/tracker-web.js']);
    expect(loaded).toContain('better-sqlite3');
    expect(loaded).not.toContain('undici');
  });

  it('is checked by a probe that does see undici when it is loaded', () => {
    expect(packagesLoadedBy(['client/mogile-client.js'])).toContain('undici');
  });
});
