/**
 * A server setting read as a whole number ≥ 0 (the `queue_*` settings are stored as text,
 * behaviour.md §13); `fallback` when it is unset or not a number.
 */
export function numberSetting(
  settings: ReadonlyMap<string, string>,
  key: string,
  fallback: number,
): number {
  const value = Number.parseInt(settings.get(key) ?? '', 10);
  return Number.isFinite(value) && value >= 0 ? value : fallback;
}
