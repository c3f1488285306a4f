/** One sample of the Prometheus text format (version 0.0.4). */
export interface Sample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

export interface ParsedMetrics {
  /** Metric family → its `# TYPE`. */
  readonly types: ReadonlyMap<string, string>;
  readonly samples: readonly Sample[];
}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const SAMPLE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})?\s+(\S+)(\s+-?\d+)?$/;
const LABEL = /\s*([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"\s*(,|$)/y;
const TYPES = new Set(['counter', 'gauge', 'histogram', 'summary', 'untyped']);

/**
 * A strict reader of the exposition format, written for the tests: every line must be a
 * comment, a HELP or TYPE line, or a well-formed sample of a declared family; anything
 * else throws with the line number.
 */
export function parsePrometheusText(text: string): ParsedMetrics {
  const types = new Map<string, string>();
  const samples: Sample[] = [];
  const lines = text.split('\n');
  if (lines.at(-1) !== '') throw new Error('the text must end with a newline');
  for (const [index, line] of lines.slice(0, -1).entries()) {
    const fail = (why: string) => {
      throw new Error(`line ${index + 1}: ${why}: ${line}`);
    };
    if (line.trim() === '') continue;
    if (line.startsWith('#')) {
      const [, keyword, name, rest] = /^#\s+(HELP|TYPE)\s+(\S+)\s*(.*)$/.exec(line) ?? [];
      if (!keyword) continue; // a plain comment
      if (!NAME.test(name!)) fail('bad metric name');
      if (keyword === 'TYPE') {
        if (!TYPES.has(rest!)) fail('unknown type');
        if (types.has(name!)) fail('TYPE repeated');
        types.set(name!, rest!);
      }
      continue;
    }
    const match = SAMPLE.exec(line);
    if (!match) fail('not a sample');
    const [, name, , labelText, valueText] = match!;
    const labels: Record<string, string> = {};
    if (labelText) {
      LABEL.lastIndex = 0;
      while (LABEL.lastIndex < labelText.length) {
        const label = LABEL.exec(labelText);
        if (!label) fail('bad labels');
        labels[label![1]!] = label![2]!.replace(/\\n/g, '\n').replace(/\\(.)/g, '$1');
      }
    }
    // Prometheus reads values with Go's ParseFloat: NaN and Inf in any letter case.
    const special = /^([+-]?)(inf|nan)$/i.exec(valueText!);
    const value = special
      ? special[2]!.toLowerCase() === 'nan'
        ? Number.NaN
        : (special[1] === '-' ? -1 : 1) * Number.POSITIVE_INFINITY
      : Number(valueText);
    if (Number.isNaN(value) && !special) fail('bad value');
    const family = familyOf(name!, types);
    if (!family) fail('sample without a TYPE line');
    samples.push({ name: name!, labels, value });
  }
  return { types, samples };
}

function familyOf(name: string, types: ReadonlyMap<string, string>): string | undefined {
  if (types.has(name)) return name;
  for (const suffix of ['_bucket', '_sum', '_count', '_created', '_total']) {
    const base = name.endsWith(suffix) ? name.slice(0, -suffix.length) : undefined;
    if (base && types.has(base)) return base;
  }
  return undefined;
}

/** The samples of one series name, optionally narrowed by labels. */
export function samplesOf(
  parsed: ParsedMetrics,
  name: string,
  labels: Record<string, string> = {},
): Sample[] {
  return parsed.samples.filter(
    (sample) =>
      sample.name === name &&
      Object.entries(labels).every(([key, value]) => sample.labels[key] === value),
  );
}
