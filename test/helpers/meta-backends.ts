import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * The engines the store tests run on. `META_BACKENDS=sqlite,postgres` narrows the set;
 * every test runs against each real engine, never a mock.
 */
export interface Backend {
  readonly name: string;
  /** A URL for a new, empty database, and how to drop it afterwards. */
  freshDatabase(): Promise<{ url: string; drop(): Promise<void> }>;
}

const sqlite: Backend = {
  name: 'sqlite',
  async freshDatabase() {
    const dir = mkdtempSync(join(tmpdir(), 'mogile-meta-'));
    return {
      url: `sqlite:${join(dir, 'meta.db')}`,
      async drop() {
        rmSync(dir, { recursive: true, force: true });
      },
    };
  },
};

const ALL: readonly Backend[] = [sqlite];

export function backends(): readonly Backend[] {
  const wanted = process.env['META_BACKENDS']?.split(',').map((name) => name.trim());
  return wanted ? ALL.filter((backend) => wanted.includes(backend.name)) : ALL;
}
