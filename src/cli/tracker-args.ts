import { TRACKER_CONFIG_KEYS, TRACKER_FLAG_KEYS } from '../tracker/config.js';

/** The original mogilefsd's option names for config keys (spec/behaviour.md §14). */
const ALIASES: Readonly<Record<string, string>> = {
  l: 'listen',
  p: 'conf_port',
  confport: 'conf_port',
  dsn: 'db_dsn',
  dbuser: 'db_user',
  dbpass: 'db_pass',
  w: 'query_jobs',
  workers: 'query_jobs',
  D: 'daemonize',
  d: 'debug',
};

/** The original's negated flag, `--nojob_master`. */
const NO_JOB_MASTER = /^nojob[-_]master$/;
const BOOLEAN_WORD = /^(?:0|1|true|false|yes|no|on|off)$/i;

export class TrackerArgsError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TrackerArgsError';
  }
}

/**
 * Turns `mogile tracker` options into config-key overrides: every key of mogilefsd.conf
 * as `--key-with-dashes VALUE` (or `--key_with_underscores`, or `--key=VALUE`), plus the
 * original's short and old names. Flags (`--no-schema-check`) need no value; `-d`
 * repeated raises the debug level, as in the original.
 */
export function parseTrackerArgs(args: readonly string[]): Record<string, string[]> {
  const overrides: Record<string, string[]> = {};
  let debugFlags = 0;
  for (let i = 0; i < args.length; i++) {
    const token = args[i]!;
    const match = /^--?([A-Za-z][\w-]*)(?:=(.*))?$/s.exec(token);
    if (!match) throw new TrackerArgsError(`unexpected argument "${token}"`);
    const written = match[1]!;
    const inline = NO_JOB_MASTER.test(written) ? '0' : match[2];
    const key = keyFor(written);
    if (key === undefined) throw new TrackerArgsError(`unknown option "${token}"`);
    if (key === 'debug' && inline === undefined && !/^\d+$/.test(args[i + 1] ?? '')) {
      debugFlags += 1;
      continue;
    }
    let value = inline;
    if (value === undefined && TRACKER_FLAG_KEYS.has(key)) {
      const next = args[i + 1];
      value = next !== undefined && BOOLEAN_WORD.test(next) ? args[++i]! : '1';
    }
    if (value === undefined) {
      value = args[++i];
      if (value === undefined) throw new TrackerArgsError(`option "${token}" needs a value`);
    }
    overrides[key] = [...(overrides[key] ?? []), value];
  }
  if (debugFlags > 0 && overrides['debug'] === undefined) overrides['debug'] = [String(debugFlags)];
  return overrides;
}

function keyFor(written: string): string | undefined {
  if (NO_JOB_MASTER.test(written)) return 'job_master';
  const alias = ALIASES[written];
  if (alias) return alias;
  const key = written.replaceAll('-', '_');
  return Object.hasOwn(TRACKER_CONFIG_KEYS, key) ? key : undefined;
}
