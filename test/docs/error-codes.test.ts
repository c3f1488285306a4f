import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ERROR_TEXTS } from '../../src/protocol/errors.js';

/** docs/errors.md has one row per code of ERROR_TEXTS, with the same default text. */
const DOC = readFileSync(resolve(import.meta.dirname, '..', '..', 'docs', 'errors.md'), 'utf8');

/** code → default-text cell, from every table row whose first cell is one backquoted code. */
function documentedCodes(): Map<string, string> {
  const rows = new Map<string, string>();
  for (const line of DOC.split('\n')) {
    const match = /^\| `([a-z_]+)` \| ([^|]*) \|/.exec(line);
    if (!match) continue;
    if (rows.has(match[1]!)) throw new Error(`docs/errors.md lists ${match[1]} twice`);
    rows.set(match[1]!, match[2]!.trim());
  }
  return rows;
}

describe('docs/errors.md', () => {
  const documented = documentedCodes();
  const known = Object.keys(ERROR_TEXTS);

  it('lists every error code, and only those', () => {
    expect(known.filter((code) => !documented.has(code))).toEqual([]);
    expect([...documented.keys()].filter((code) => !known.includes(code))).toEqual([]);
  });

  it('gives each code its default text (— when it has none)', () => {
    const wrong = known.filter((code) => {
      const text = ERROR_TEXTS[code as keyof typeof ERROR_TEXTS] ?? '—';
      return documented.get(code) !== text;
    });
    expect(wrong).toEqual([]);
  });
});
