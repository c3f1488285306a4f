/** A column of a text table; numbers read best right-aligned. */
export interface Column {
  readonly header: string;
  readonly align?: 'left' | 'right';
}

/**
 * Renders rows under a header and a rule of dashes, columns two spaces apart, the way
 * mogadm lays out its listings. Trailing spaces are trimmed so output diffs cleanly.
 */
export function renderTable(
  columns: readonly Column[],
  rows: readonly (readonly (string | number)[])[],
  indent = '',
): string {
  const cells = rows.map((row) => columns.map((_, i) => String(row[i] ?? '')));
  const widths = columns.map((column, i) =>
    Math.max(column.header.length, ...cells.map((row) => row[i]!.length)),
  );
  const line = (values: readonly string[]) =>
    indent +
    values
      .map((value, i) =>
        columns[i]!.align === 'right' ? value.padStart(widths[i]!) : value.padEnd(widths[i]!),
      )
      .join('  ')
      .trimEnd();
  return [
    line(columns.map((column) => column.header)),
    line(widths.map((width) => '-'.repeat(width))),
    ...cells.map(line),
  ]
    .map((text) => `${text}\n`)
    .join('');
}

/** `name: value` lines with the names padded to one width (status views). */
export function renderFields(fields: readonly (readonly [string, string | number])[]): string {
  const width = Math.max(0, ...fields.map(([name]) => name.length));
  return fields.map(([name, value]) => `${`${name}:`.padEnd(width + 2)}${value}\n`).join('');
}
