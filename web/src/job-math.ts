/**
 * The arithmetic behind the dashboard: progress fractions, ETA, worker aggregates,
 * job ordering, sorting and the windowed list's visible range. Pure functions over the
 * protocol's summaries, unit-tested in Node.
 */
import type {
  JobCounts,
  JobSummary,
  WorkerSummary,
} from '../../shared/protocol.js';

/** Share of the job's tasks in each state; the four parts sum to at most 1. */
export interface ProgressParts {
  done: number;
  failed: number;
  running: number;
  queued: number;
}

/** Tasks that still need an outcome (queued or running). */
export function remainingTasks(counts: JobCounts): number {
  return Math.max(0, counts.total - counts.done - counts.failed);
}

/**
 * The part of the running tasks already computed (`JobSummary.partial`), clamped to
 * 0..running: a bad or stale value never shows more than the running tasks.
 */
export function runningDone(counts: JobCounts, partial = 0): number {
  if (!(partial > 0)) return 0;
  return Math.min(partial, Math.max(0, counts.running));
}

/**
 * Fractions of `total` for the stacked progress bar. Each count is clamped so that the
 * parts never overflow the bar, even if a delta briefly reports inconsistent counts.
 * `partial` (the computed part of the running tasks) moves from running to done, so
 * that a job of a few long tasks moves smoothly.
 */
export function progressParts(counts: JobCounts, partial = 0): ProgressParts {
  const total = counts.total;
  if (!(total > 0)) return { done: 0, failed: 0, running: 0, queued: 0 };
  const inside = runningDone(counts, partial);
  let left = total;
  const take = (n: number): number => {
    const part = Math.min(Math.max(0, n), left);
    left -= part;
    return part / total;
  };
  const done = take(Math.max(0, counts.done) + inside);
  const failed = take(counts.failed);
  const running = take(counts.running - inside);
  const queued = take(counts.queued);
  return { done, failed, running, queued };
}

/**
 * Share of the job computed, 0..1: tasks with an outcome (done or failed) plus the
 * `partial` progress of running ones; 0 for an empty job.
 */
export function completion(counts: JobCounts, partial = 0): number {
  if (!(counts.total > 0)) return 0;
  return Math.min(
    1,
    (counts.done + counts.failed + runningDone(counts, partial)) / counts.total,
  );
}

/**
 * Seconds until the job's known tasks are finished at its current rate; `0` when
 * nothing is left, `null` when it cannot be known (finished job, no rate yet).
 */
export function etaSeconds(
  job: Pick<JobSummary, 'state' | 'counts' | 'rate'>,
): number | null {
  if (job.state !== 'running') return null;
  const left = remainingTasks(job.counts);
  if (left === 0) return 0;
  if (!(job.rate > 1e-3)) return null;
  return left / job.rate;
}

/** Totals over the connected workers, for the header tiles. */
export interface WorkerTotals {
  count: number;
  node: number;
  browser: number;
  slots: number;
  inFlight: number;
  done: number;
  rate: number;
}

export function workerTotals(workers: Iterable<WorkerSummary>): WorkerTotals {
  const t: WorkerTotals = {
    count: 0,
    node: 0,
    browser: 0,
    slots: 0,
    inFlight: 0,
    done: 0,
    rate: 0,
  };
  for (const w of workers) {
    t.count++;
    if (w.kind === 'node') t.node++;
    else t.browser++;
    t.slots += w.slots;
    t.inFlight += w.inFlight;
    t.done += w.done;
    t.rate += w.rate;
  }
  return t;
}

/**
 * Jobs in display order: running ones first (newest first), then finished ones, most
 * recently finished first. `limit` caps the list; `hidden` says how many were left out.
 */
export function orderJobs(
  jobs: Iterable<JobSummary>,
  limit = Infinity,
): { shown: JobSummary[]; hidden: number } {
  const all = [...jobs];
  all.sort((a, b) => {
    const ra = a.state === 'running' ? 0 : 1;
    const rb = b.state === 'running' ? 0 : 1;
    if (ra !== rb) return ra - rb;
    if (ra === 0) return b.createdAt - a.createdAt || a.id.localeCompare(b.id);
    return (
      (b.finishedAt ?? b.createdAt) - (a.finishedAt ?? a.createdAt) ||
      a.id.localeCompare(b.id)
    );
  });
  const shown = all.length > limit ? all.slice(0, limit) : all;
  return { shown, hidden: all.length - shown.length };
}

export const WorkerSortKey = {
  Connected: 'connected',
  Name: 'name',
  Kind: 'kind',
  InFlight: 'inFlight',
  Done: 'done',
  Rate: 'rate',
} as const;
export type WorkerSortKey = (typeof WorkerSortKey)[keyof typeof WorkerSortKey];

/**
 * A sorted copy of `workers`. Ties fall back to connection time, then id, so that rows
 * do not swap places while their numbers change.
 */
export function sortWorkers(
  workers: Iterable<WorkerSummary>,
  key: WorkerSortKey,
  descending: boolean,
): WorkerSummary[] {
  const sign = descending ? -1 : 1;
  const primary = (a: WorkerSummary, b: WorkerSummary): number => {
    switch (key) {
      case 'connected':
        return a.connectedAt - b.connectedAt;
      case 'name':
        return a.name.localeCompare(b.name);
      case 'kind':
        return a.kind.localeCompare(b.kind);
      case 'inFlight':
        return a.inFlight - b.inFlight;
      case 'done':
        return a.done - b.done;
      case 'rate':
        return a.rate - b.rate;
    }
  };
  return [...workers].sort(
    (a, b) =>
      sign * primary(a, b) ||
      a.connectedAt - b.connectedAt ||
      a.id.localeCompare(b.id),
  );
}

/**
 * Rows a windowed list must render: those intersecting the viewport plus `overscan`
 * on each side. `end` is exclusive.
 */
export function visibleRange(
  scrollTop: number,
  viewportHeight: number,
  rowHeight: number,
  count: number,
  overscan = 4,
): { start: number; end: number } {
  if (count <= 0 || rowHeight <= 0) return { start: 0, end: 0 };
  const first = Math.floor(Math.max(0, scrollTop) / rowHeight);
  const visible = Math.ceil(Math.max(0, viewportHeight) / rowHeight) + 1;
  const start = Math.max(0, Math.min(count, first - overscan));
  const end = Math.max(start, Math.min(count, first + visible + overscan));
  return { start, end };
}

/** A count sampled at a time, for a moving rate. */
export interface CountSample {
  at: number;
  count: number;
}

/**
 * Items per second over the last `windowMs` of `samples` (ordered by time): the rise of
 * the count between the oldest sample inside the window and the newest one.
 */
export function windowRate(
  samples: readonly CountSample[],
  windowMs: number,
): number {
  const last = samples[samples.length - 1];
  if (!last) return 0;
  let first: CountSample = last;
  for (let i = samples.length - 1; i >= 0; i--) {
    const s = samples[i] as CountSample;
    if (last.at - s.at > windowMs) break;
    first = s;
  }
  const span = last.at - first.at;
  if (span <= 0) return 0;
  return Math.max(0, ((last.count - first.count) * 1_000) / span);
}
