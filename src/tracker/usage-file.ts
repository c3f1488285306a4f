/**
 * Reads a device's usage file (spec storage-node.md §4). Needs non-zero `used` and
 * `total`: a device reporting `used: 0` is a failed probe, as in the original.
 */
export function parseUsageFile(text: string): { usedKib: number; totalKib: number } | undefined {
  const fields = new Map<string, string>();
  for (const line of text.split('\n')) {
    const match = /^(\w+)\s*:\s*(.+)$/.exec(line.trim());
    if (match) fields.set(match[1]!, match[2]!.trim());
  }
  const usedKib = Number(fields.get('used'));
  const totalKib = Number(fields.get('total'));
  if (!(usedKib > 0) || !(totalKib > 0)) return undefined;
  return { usedKib, totalKib };
}
