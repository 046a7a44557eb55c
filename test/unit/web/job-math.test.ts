import { describe, expect, test } from 'vitest';
import type {
  JobCounts,
  JobSummary,
  WorkerSummary,
} from '../../../shared/protocol.js';
import {
  completion,
  etaSeconds,
  orderJobs,
  progressParts,
  remainingTasks,
  runningDone,
  sortWorkers,
  visibleRange,
  windowRate,
  workerTotals,
} from '../../../web/src/job-math.js';
import { jobId, workerId } from '../../helpers/ids.js';

const counts = (c: Partial<JobCounts>): JobCounts => ({
  total: 0,
  queued: 0,
  running: 0,
  done: 0,
  failed: 0,
  ...c,
});

function job(id: string, patch: Partial<JobSummary> = {}): JobSummary {
  return {
    id: jobId(id),
    name: `job ${id}`,
    state: 'running',
    sealed: true,
    priority: 0,
    counts: counts({ total: 10, queued: 10 }),
    rate: 0,
    partial: 0,
    createdAt: 0,
    finishedAt: null,
    errors: [],
    ...patch,
  };
}

function worker(id: string, patch: Partial<WorkerSummary> = {}): WorkerSummary {
  return {
    id: workerId(id),
    name: `w-${id}`,
    kind: 'node',
    slots: 1,
    inFlight: 0,
    done: 0,
    disagreed: 0,
    volunteer: `v-${id}`,
    rate: 0,
    connectedAt: 0,
    ...patch,
  };
}

describe('progress fractions', () => {
  test('parts are shares of the total and sum to 1 when consistent', () => {
    const parts = progressParts(
      counts({
        total: 100_000,
        done: 25_000,
        failed: 5_000,
        running: 20_000,
        queued: 50_000,
      }),
    );
    expect(parts).toEqual({
      done: 0.25,
      failed: 0.05,
      running: 0.2,
      queued: 0.5,
    });
  });

  test('an empty job has no parts', () => {
    expect(progressParts(counts({}))).toEqual({
      done: 0,
      failed: 0,
      running: 0,
      queued: 0,
    });
    expect(completion(counts({}))).toBe(0);
  });

  test('inconsistent counts never overflow the bar', () => {
    const parts = progressParts(
      counts({ total: 10, done: 8, failed: 1, running: 3, queued: 4 }),
    );
    expect(parts.done).toBeCloseTo(0.8);
    expect(parts.failed).toBeCloseTo(0.1);
    expect(parts.running).toBeCloseTo(0.1);
    expect(parts.queued).toBe(0);
    expect(
      parts.done + parts.failed + parts.running + parts.queued,
    ).toBeCloseTo(1);
  });

  test('completion counts failed tasks as finished', () => {
    expect(completion(counts({ total: 4, done: 2, failed: 1 }))).toBe(0.75);
    expect(completion(counts({ total: 4, done: 4 }))).toBe(1);
    expect(remainingTasks(counts({ total: 4, done: 2, failed: 1 }))).toBe(1);
    expect(remainingTasks(counts({ total: 4, done: 5 }))).toBe(0);
  });
});

describe('progress inside running tasks (partial)', () => {
  test('moves from the running part to the done part; completion includes it', () => {
    // 2 long tasks, both running, each half done.
    const c = counts({ total: 2, running: 2 });
    expect(completion(c)).toBe(0);
    expect(progressParts(c, 1)).toEqual({
      done: 0.5,
      failed: 0,
      running: 0.5,
      queued: 0,
    });
    expect(completion(c, 1)).toBe(0.5);
    expect(completion(c, 0.1)).toBeCloseTo(0.05);
  });

  test('adds to finished tasks, the parts still sum to the counts', () => {
    const c = counts({ total: 10, done: 4, failed: 1, running: 2, queued: 3 });
    const parts = progressParts(c, 1.5);
    expect(parts.done).toBeCloseTo(0.55);
    expect(parts.failed).toBeCloseTo(0.1);
    expect(parts.running).toBeCloseTo(0.05);
    expect(parts.queued).toBeCloseTo(0.3);
    expect(
      parts.done + parts.failed + parts.running + parts.queued,
    ).toBeCloseTo(1);
    expect(completion(c, 1.5)).toBeCloseTo(0.65);
  });

  test('never more than the running tasks, never negative or NaN', () => {
    const c = counts({ total: 4, done: 1, running: 1, queued: 2 });
    expect(runningDone(c, 3)).toBe(1);
    expect(runningDone(c, -1)).toBe(0);
    expect(runningDone(c, Number.NaN)).toBe(0);
    expect(completion(c, 3)).toBe(0.5);
    expect(progressParts(c, 3)).toEqual(
      progressParts(counts({ total: 4, done: 2, queued: 2 })),
    );
    expect(progressParts(c, -1)).toEqual(progressParts(c));
    // A finished job: nothing running, partial ignored.
    expect(completion(counts({ total: 2, done: 2 }), 0.7)).toBe(1);
  });
});

describe('etaSeconds', () => {
  test('remaining tasks over the rate', () => {
    expect(
      etaSeconds(
        job('a', {
          counts: counts({ total: 1_000, done: 400, failed: 100 }),
          rate: 50,
        }),
      ),
    ).toBe(10);
  });
  test('unknown without a rate, zero when nothing is left, none once finished', () => {
    expect(etaSeconds(job('a', { rate: 0 }))).toBeNull();
    expect(
      etaSeconds(job('a', { counts: counts({ total: 3, done: 3 }), rate: 0 })),
    ).toBe(0);
    expect(etaSeconds(job('a', { state: 'completed', rate: 5 }))).toBeNull();
  });
});

describe('workerTotals', () => {
  test('sums slots, in flight, done and rate by kind', () => {
    const t = workerTotals([
      worker('1', { kind: 'node', slots: 4, inFlight: 3, done: 10, rate: 2 }),
      worker('2', {
        kind: 'browser',
        slots: 2,
        inFlight: 1,
        done: 5,
        rate: 0.5,
      }),
      worker('3', { kind: 'browser', slots: 1 }),
    ]);
    expect(t).toEqual({
      count: 3,
      node: 1,
      browser: 2,
      slots: 7,
      inFlight: 4,
      done: 15,
      rate: 2.5,
    });
  });
});

describe('orderJobs', () => {
  test('running newest first, then finished by finish time, capped', () => {
    const jobs = [
      job('old-run', { createdAt: 1 }),
      job('done-early', { state: 'completed', createdAt: 0, finishedAt: 5 }),
      job('new-run', { createdAt: 9 }),
      job('done-late', { state: 'cancelled', createdAt: 2, finishedAt: 8 }),
    ];
    expect(orderJobs(jobs).shown.map((j) => j.id)).toEqual([
      'new-run',
      'old-run',
      'done-late',
      'done-early',
    ]);
    const capped = orderJobs(jobs, 3);
    expect(capped.shown).toHaveLength(3);
    expect(capped.hidden).toBe(1);
  });
});

describe('sortWorkers', () => {
  const ws = [
    worker('a', { name: 'zeta', done: 5, connectedAt: 3 }),
    worker('b', { name: 'alpha', done: 9, connectedAt: 1 }),
    worker('c', { name: 'mid', done: 5, connectedAt: 2 }),
  ];
  test('by key, ties by connection time', () => {
    expect(sortWorkers(ws, 'connected', false).map((w) => w.id)).toEqual([
      'b',
      'c',
      'a',
    ]);
    expect(sortWorkers(ws, 'name', false).map((w) => w.id)).toEqual([
      'b',
      'c',
      'a',
    ]);
    expect(sortWorkers(ws, 'done', true).map((w) => w.id)).toEqual([
      'b',
      'c',
      'a',
    ]);
    expect(sortWorkers(ws, 'done', false).map((w) => w.id)).toEqual([
      'c',
      'a',
      'b',
    ]);
  });
  test('does not mutate its input', () => {
    const before = ws.map((w) => w.id);
    sortWorkers(ws, 'name', true);
    expect(ws.map((w) => w.id)).toEqual(before);
  });
});

describe('visibleRange', () => {
  test('rows in view plus overscan, clamped to the list', () => {
    expect(visibleRange(0, 360, 36, 1_000, 4)).toEqual({ start: 0, end: 15 });
    expect(visibleRange(3_600, 360, 36, 1_000, 4)).toEqual({
      start: 96,
      end: 115,
    });
    expect(visibleRange(36_000, 360, 36, 1_000, 4)).toEqual({
      start: 996,
      end: 1_000,
    });
    expect(visibleRange(0, 360, 36, 3, 4)).toEqual({ start: 0, end: 3 });
    expect(visibleRange(0, 360, 36, 0)).toEqual({ start: 0, end: 0 });
  });
  test('a thousand rows render a bounded slice wherever the scroll is', () => {
    for (let top = 0; top <= 36_000; top += 997) {
      const { start, end } = visibleRange(top, 360, 36, 1_000);
      expect(end - start).toBeLessThanOrEqual(20);
    }
  });
});

describe('windowRate', () => {
  test('rise of the count over the window, per second', () => {
    const samples = [
      { at: 0, count: 0 },
      { at: 10_000, count: 50 },
      { at: 20_000, count: 150 },
      { at: 30_000, count: 250 },
    ];
    expect(windowRate(samples, 60_000)).toBeCloseTo(250 / 30);
    expect(windowRate(samples, 10_000)).toBeCloseTo(10);
  });
  test('zero with fewer than two samples', () => {
    expect(windowRate([], 1_000)).toBe(0);
    expect(windowRate([{ at: 5, count: 9 }], 1_000)).toBe(0);
  });
});
