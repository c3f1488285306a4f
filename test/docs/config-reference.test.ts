import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { registerStorageCommand, STORAGE_CONFIG_KEYS } from '../../src/cli/storage-command.js';
import { TRACKER_CONFIG_KEYS } from '../../src/tracker/config.js';

/** docs/config.md lists exactly the keys the code reads (no more, no fewer). */
const DOC = readFileSync(resolve(import.meta.dirname, '..', '..', 'docs', 'config.md'), 'utf8');

/** The part of the page from heading `title` to the next heading of the same level. */
function section(title: string): string {
  const start = DOC.indexOf(`\n## ${title}`);
  if (start < 0) throw new Error(`docs/config.md has no "## ${title}" section`);
  const end = DOC.indexOf('\n## ', start + 1);
  return DOC.slice(start, end < 0 ? undefined : end);
}

/** Backquoted names in the first cell of every table row (header and rule rows skipped). */
function firstColumnNames(text: string, under?: string): string[] {
  const part = under === undefined ? text : text.slice(text.indexOf(`\n### ${under}`));
  const scoped = under === undefined ? part : part.slice(0, nextHeading(part));
  const names: string[] = [];
  for (const line of scoped.split('\n')) {
    const cell = /^\|([^|]*)\|/.exec(line)?.[1];
    if (!cell || /^\s*-+\s*$/.test(cell)) continue;
    for (const match of cell.matchAll(/`([^`]+)`/g)) names.push(match[1]!);
  }
  return names;
}

function nextHeading(text: string): number {
  const at = text.indexOf('\n### ', 1);
  return at < 0 ? text.length : at;
}

describe('docs/config.md', () => {
  it('lists every tracker key, and only those', () => {
    const tracker = section('Tracker');
    const documented = new Set(firstColumnNames(tracker).filter((name) => !name.startsWith('$')));
    const known = Object.keys(TRACKER_CONFIG_KEYS);
    expect(known.filter((key) => !documented.has(key))).toEqual([]);
    expect([...documented].filter((key) => !known.includes(key))).toEqual([]);
  });

  it('lists every storage file key, and only those', () => {
    const documented = new Set(firstColumnNames(section('Storage node'), 'File keys'));
    expect([...STORAGE_CONFIG_KEYS].filter((key) => !documented.has(key))).toEqual([]);
    expect([...documented].filter((key) => !STORAGE_CONFIG_KEYS.has(key))).toEqual([]);
  });

  it('lists every storage command-line option, and only those', () => {
    const program = new Command();
    registerStorageCommand(program);
    const storage = program.commands.find((command) => command.name() === 'storage')!;
    const flags = storage.options.flatMap((option) =>
      [option.long, option.short].filter((flag): flag is string => flag !== undefined),
    );
    const documented = new Set(
      firstColumnNames(section('Storage node'), 'Command-line options').flatMap((cell) =>
        cell.split(/,\s*/),
      ),
    );
    expect(flags.filter((flag) => !documented.has(flag))).toEqual([]);
    expect([...documented].filter((flag) => !flags.includes(flag))).toEqual([]);
  });
});
