/**
 * Sizes for people. The tracker counts device space in MiB (`mb_total`, `mb_used`) and
 * file lengths in bytes; both are shown with binary units.
 */

const UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];

export function formatBytes(bytes: number): string {
  if (!Number.isFinite(bytes)) return '-';
  let value = Math.abs(bytes);
  let unit = 0;
  while (value >= 1024 && unit < UNITS.length - 1) {
    value /= 1024;
    unit++;
  }
  const sign = bytes < 0 ? '-' : '';
  return unit === 0 ? `${sign}${value} B` : `${sign}${value.toFixed(1)} ${UNITS[unit]}`;
}

/** A device size the tracker reports in MiB; `-` before the monitor has seen the device. */
export function formatMb(mb: number | undefined): string {
  return mb === undefined ? '-' : formatBytes(mb * 1024 * 1024);
}

/** GiB with three decimals, as mogadm prints device space. */
export function formatGiB(mb: number | undefined): string {
  return mb === undefined ? '-' : (mb / 1024).toFixed(3);
}

export function formatPercent(part: number | undefined, whole: number | undefined): string {
  if (part === undefined || whole === undefined || whole <= 0) return '-';
  return `${((100 * part) / whole).toFixed(2)}%`;
}

/** A whole number with thousands separators, for file counts. */
export function formatCount(count: number): string {
  return count.toLocaleString('en-US');
}

/** A duration as mogadm's fsck status shows it: seconds, then minutes, then hours. */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '-';
  if (seconds < 60) return `${Math.floor(seconds)}s`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)}m`;
  return `${Math.floor(seconds / 3600)}h${String(Math.floor((seconds % 3600) / 60)).padStart(2, '0')}m`;
}
