import { readFileSync } from 'node:fs';

/** One `key = value` setting read from a mogilefsd.conf or mogstored.conf file. */
export interface ConfigEntry {
  readonly key: string;
  readonly value: string;
  readonly line: number;
}

export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

/**
 * Parses the original config syntax: blank lines and `#` comments are ignored, every
 * other line is `key = value`, `key value` or `key=value` (the original refuses the last
 * form, spec/behaviour.md §14; we accept it). A later line for the same key wins.
 */
export function parseConfigText(text: string, source = 'config'): ConfigEntry[] {
  const entries: ConfigEntry[] = [];
  const lines = text.split(/\r?\n/);
  for (const [index, raw] of lines.entries()) {
    const line = raw.replace(/#.*$/, '').trim();
    if (line === '') continue;
    const match = /^([A-Za-z_][\w-]*)\s*(?:=\s*|\s+)(.*)$/.exec(line);
    if (!match) {
      throw new ConfigError(`${source}:${index + 1}: expected "key = value", found "${line}"`);
    }
    entries.push({ key: match[1]!.replaceAll('-', '_'), value: match[2]!.trim(), line: index + 1 });
  }
  return entries;
}

export function readConfigFile(path: string): ConfigEntry[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new ConfigError(`cannot read config file ${path}: ${(error as Error).message}`);
  }
  return parseConfigText(text, path);
}
