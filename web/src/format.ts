/**
 * Pure formatting for the dashboard and the volunteer page: counts, rates, durations,
 * ETAs and clock times. No DOM here, so that the unit tests run these in Node.
 * Numbers are formatted the same way everywhere (en-US grouping) so that columns line
 * up with `font-variant-numeric: tabular-nums`.
 */

const integer = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });
const oneDecimal = new Intl.NumberFormat('en-US', {
  minimumFractionDigits: 1,
  maximumFractionDigits: 1,
});

/** `1234567` → `1,234,567`; non-finite values → `—`. */
export function formatCount(n: number): string {
  if (!Number.isFinite(n)) return '—';
  return integer.format(Math.round(n));
}

/** Short form for tight spaces: `950`, `12.3k`, `4.5M`. */
export function formatCompact(n: number): string {
  if (!Number.isFinite(n)) return '—';
  const abs = Math.abs(n);
  if (abs < 1_000) return integer.format(Math.round(n));
  if (abs < 999_950) return `${oneDecimal.format(n / 1_000)}k`;
  if (abs < 999_950_000) return `${oneDecimal.format(n / 1_000_000)}M`;
  return `${oneDecimal.format(n / 1_000_000_000)}G`;
}

/**
 * Tasks per second: one decimal below 10 (`3.4/s`), whole numbers below 1,000
 * (`123/s`), compact above (`12.3k/s`). Zero and negative rates read `0/s`.
 */
export function formatRate(perSecond: number): string {
  if (!Number.isFinite(perSecond) || perSecond <= 0) return '0/s';
  if (perSecond < 0.05) return '<0.1/s';
  if (perSecond < 9.95) return `${oneDecimal.format(perSecond)}/s`;
  if (perSecond < 999.5) return `${integer.format(perSecond)}/s`;
  return `${formatCompact(perSecond)}/s`;
}

/**
 * A span of time in two units at most, zero-padded after the first:
 * `0s`, `42s`, `3m 05s`, `2h 04m`, `3d 04h`; past 99 days `>99d`.
 */
export function formatSpan(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '—';
  const s = Math.floor(seconds);
  if (s < 60) return `${s}s`;
  const pad = (n: number) => String(n).padStart(2, '0');
  if (s < 3_600) return `${Math.floor(s / 60)}m ${pad(s % 60)}s`;
  if (s < 86_400)
    return `${Math.floor(s / 3_600)}h ${pad(Math.floor((s % 3_600) / 60))}m`;
  if (s >= 100 * 86_400) return '>99d';
  return `${Math.floor(s / 86_400)}d ${pad(Math.floor((s % 86_400) / 3_600))}h`;
}

/**
 * Time left: `—` when unknown (no rate yet), `<1s` when nearly done, else
 * {@link formatSpan} of the seconds rounded up (an ETA should not undersell).
 */
export function formatEta(seconds: number | null): string {
  if (seconds === null || !Number.isFinite(seconds) || seconds < 0) return '—';
  if (seconds === 0) return '0s';
  if (seconds < 1) return '<1s';
  return formatSpan(Math.ceil(seconds));
}

/** Elapsed time as a stopwatch: `0:07`, `12:34`, `1:02:03`. */
export function formatStopwatch(ms: number): string {
  const total = Math.max(0, Math.floor((Number.isFinite(ms) ? ms : 0) / 1_000));
  const h = Math.floor(total / 3_600);
  const m = Math.floor((total % 3_600) / 60);
  const s = total % 60;
  const pad = (n: number) => String(n).padStart(2, '0');
  return h > 0 ? `${h}:${pad(m)}:${pad(s)}` : `${m}:${pad(s)}`;
}

/** A local wall-clock time `HH:MM:SS` (24 h). */
export function formatClock(epochMs: number): string {
  const d = new Date(epochMs);
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

/**
 * A completion fraction as a whole percentage that never rounds up to 100%
 * before the work is really finished: 0.996 → `99%`, 1 → `100%`.
 */
export function formatPercent(fraction: number): string {
  if (!Number.isFinite(fraction) || fraction <= 0) return '0%';
  if (fraction >= 1) return '100%';
  return `${Math.min(99, Math.floor(fraction * 100))}%`;
}
