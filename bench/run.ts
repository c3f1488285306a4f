/**
 * Benchmark runner: `npm run bench` runs every section, `npm run bench -- storage` runs the
 * sections named `storage` or `storage-*`. A section is a file `bench/<name>.ts` exporting
 * `run(): Promise<void>`; helpers live in bench/lib/. Never run as part of the tests.
 */
import { readdirSync } from 'node:fs';
import { basename, join } from 'node:path';
import { pathToFileURL } from 'node:url';

interface Section {
  readonly name: string;
  readonly run: () => Promise<void>;
}

const here = import.meta.dirname;
const wanted = process.argv.slice(2);
const files = readdirSync(here)
  .filter((file) => file.endsWith('.ts') && file !== 'run.ts' && !file.endsWith('.test.ts'))
  .map((file) => basename(file, '.ts'))
  .filter(
    (name) => wanted.length === 0 || wanted.some((w) => name === w || name.startsWith(`${w}-`)),
  )
  .sort();

if (files.length === 0) {
  process.stderr.write(`no bench section matches ${wanted.join(', ')}\n`);
  process.exit(2);
}

for (const name of files) {
  const module = (await import(pathToFileURL(join(here, `${name}.ts`)).href)) as Partial<Section>;
  if (typeof module.run !== 'function') continue;
  process.stdout.write(`\n## ${name}\n\n`);
  const started = performance.now();
  await module.run();
  process.stdout.write(`\n(${name}: ${((performance.now() - started) / 1000).toFixed(1)} s)\n`);
}
