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

export function violations(): string[] {
  const problems: string[] = [];
  for (const file of sourceFiles(SRC)) {
    const layer = layerOf(file);
    const allowed = ALLOWED[layer];
    if (allowed === undefined) continue;
    for (const spec of importsOf(file)) {
      const where = relative(SRC, file);
      if (layer === 'protocol' && IO_MODULES.test(spec)) {
        problems.push(`${where} imports ${spec}: src/protocol must stay free of I/O`);
      }
      if (!spec.startsWith('.')) continue;
      const target = layerOf(resolve(file, '..', spec));
      if (target !== layer && !allowed.includes(target)) {
        problems.push(`${where} imports ${spec}: ${layer} may not depend on ${target}`);
      }
    }
  }
  return problems;
}

describe('architecture', () => {
  it('every import follows the layering of architecture.md §2', () => {
    expect(violations()).toEqual([]);
  });

  it('the checker notices a forbidden import', () => {
    const fake = join(SRC, 'meta', 'x.ts');
    expect(layerOf(resolve(fake, '..', '../tracker/server.js'))).toBe('tracker');
    expect(ALLOWED['meta']).not.toContain('tracker');
    expect(ALLOWED['tracker']).not.toContain('storage');
  });
});
