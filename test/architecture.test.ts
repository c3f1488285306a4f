import { readdirSync, readFileSync } from 'node:fs';
import { join, relative, resolve, sep } from 'node:path';
import { describe, expect, it } from 'vitest';

// The dependency rules of architecture.md §2: imports point inward.
const SRC = resolve(import.meta.dirname, '..', 'src');

const ALLOWED: Record<string, readonly string[]> = {
  protocol: [],
  meta: ['protocol'],
  storage: ['protocol'],
  client: ['protocol'],
  workers: ['meta', 'protocol', 'tracker'],
  tracker: ['meta', 'protocol', 'workers'],
  web: ['tracker', 'meta', 'protocol', 'workers', 'client'],
  cli: ['tracker', 'storage', 'client', 'web', 'meta', 'protocol', 'workers'],
};

/** Node built-ins that do I/O; the protocol layer is pure. */
const IO_MODULES = /^node:(fs|net|http|https|child_process|dgram|tls|dns|worker_threads)/;

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return entry.name.endsWith('.ts') && !entry.name.endsWith('.test.ts') ? [path] : [];
  });
}

function importsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const found: string[] = [];
  for (const match of text.matchAll(/^\s*(?:import|export)\s[^'"]*?from\s+['"]([^'"]+)['"]/gm)) {
    found.push(match[1]!);
  }
  for (const match of text.matchAll(/import\(\s*['"]([^'"]+)['"]\s*\)/g)) found.push(match[1]!);
  return found;
}

function layerOf(file: string): string {
  return relative(SRC, file).split(sep)[0]!;
}

/** The rule an import breaks, if any. */
function checkImport(file: string, spec: string): string | undefined {
  const layer = layerOf(file);
  const allowed = ALLOWED[layer];
  const where = relative(SRC, file);
  if (allowed === undefined) return undefined;
  if (layer === 'protocol' && IO_MODULES.test(spec)) {
    return `${where} imports ${spec}: src/protocol must stay free of I/O`;
  }
  if (!spec.startsWith('.')) return undefined;
  const target = layerOf(resolve(file, '..', spec));
  if (target !== layer && !allowed.includes(target)) {
    return `${where} imports ${spec}: ${layer} may not depend on ${target}`;
  }
  return undefined;
}

function violations(): string[] {
  return sourceFiles(SRC).flatMap((file) =>
    importsOf(file).flatMap((spec) => checkImport(file, spec) ?? []),
  );
}

describe('architecture', () => {
  it('every import follows the layering of architecture.md §2', () => {
    expect(violations()).toEqual([]);
  });

  it('the checker reports forbidden imports', () => {
    expect(checkImport(join(SRC, 'meta', 'x.ts'), '../tracker/server.js')).toMatch(
      /meta may not depend on tracker/,
    );
    expect(checkImport(join(SRC, 'tracker', 'x.ts'), '../storage/put-handler.js')).toMatch(
      /tracker may not depend on storage/,
    );
    expect(checkImport(join(SRC, 'protocol', 'x.ts'), 'node:fs')).toMatch(/free of I\/O/);
    expect(checkImport(join(SRC, 'cli', 'x.ts'), '../tracker/tracker.js')).toBeUndefined();
  });
});
