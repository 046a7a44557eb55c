/**
 * Retention: which ended jobs are old enough to purge, and the duration flag that says
 * how old. Pure functions; the master's purger (purger.ts) runs them on a timer.
 */
import type { JobId, JobView } from './scheduler/types.js';

const UNIT_MS = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

/** Longest retention accepted: ten years (a bound, not a policy). */
const MAX_RETAIN_MS = 3650 * UNIT_MS.d;

/**
 * Parses `7d`, `12h`, `30m`, `45s` into milliseconds; `undefined` for anything else
 * (the caller turns that into a usage error).
 */
export function parseDuration(text: string): number | undefined {
  const match = /^([1-9]\d{0,6})([smhd])$/.exec(text.trim());
  if (!match) return undefined;
  const ms = Number(match[1]) * UNIT_MS[match[2] as keyof typeof UNIT_MS];
  return ms <= MAX_RETAIN_MS ? ms : undefined;
}

/**
 * Ids of the jobs that ended at or before `now - retainMs`, oldest end first, at most
 * `limit`. Running jobs are never picked, whatever their age.
 */
export function jobsToPurge(
  views: Iterable<JobView>,
  now: number,
  retainMs: number,
  limit: number,
): JobId[] {
  const cutoff = now - retainMs;
  const due: { id: JobId; at: number }[] = [];
  for (const view of views) {
    const at = view.finishedAt;
    if (view.state === 'running' || at === null || at > cutoff) continue;
    due.push({ id: view.spec.id, at });
  }
  due.sort((a, b) => a.at - b.at);
  return due.slice(0, Math.max(0, limit)).map((job) => job.id);
}

/** How often the purger looks for due jobs: a tenth of the retention, 1 s to 60 s. */
export function checkEveryMs(retainMs: number): number {
  return Math.min(Math.max(Math.floor(retainMs / 10), 1_000), 60_000);
}
