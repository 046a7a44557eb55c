import { describe, expect, test } from 'vitest';
import type {
  Delta,
  JobSummary,
  Snapshot,
  WorkerSummary,
} from '../../../shared/protocol.js';
import {
  DashboardModel,
  MAX_EVENTS,
  THROUGHPUT_WINDOW_MS,
} from '../../../web/src/dashboard-model.js';
import { jobId, workerId } from '../../helpers/ids.js';

const job = (id: string, done: number): JobSummary => ({
  id: jobId(id),
  name: id,
  state: 'running',
  sealed: true,
  priority: 0,
  counts: { total: 10, queued: 10 - done, running: 0, done, failed: 0 },
  rate: 1,
  partial: 0,
  createdAt: 0,
  finishedAt: null,
  errors: [],
});

const worker = (id: string, done = 0): WorkerSummary => ({
  id: workerId(id),
  name: id,
  kind: 'browser',
  slots: 2,
  disagreed: 0,
  volunteer: `v-${id}`,
  inFlight: 0,
  done,
  rate: 0,
  connectedAt: 0,
});

const snapshot = (at: number): Snapshot => ({
  type: 'snapshot',
  at,
  jobs: [job('j1', 0)],
  workers: [worker('w1'), worker('w2')],
  events: [{ at, kind: 'joined', text: 'w1 joined' }],
  throughput: [
    { at: at - 2_000, rate: 1 },
    { at: at - 1_000, rate: 2 },
  ],
});

const delta = (at: number, patch: Partial<Delta> = {}): Delta => ({
  type: 'delta',
  at,
  jobs: [],
  workers: [],
  removedWorkers: [],
  events: [],
  throughput: { at, rate: 3 },
  ...patch,
});

describe('DashboardModel', () => {
  test('a snapshot replaces everything', () => {
    const m = new DashboardModel();
    expect(m.loaded).toBe(false);
    m.apply(delta(1)); // ignored by the controller before a snapshot; harmless here
    m.reset(snapshot(10_000));
    expect(m.loaded).toBe(true);
    expect([...m.jobs.keys()]).toEqual(['j1']);
    expect([...m.workers.keys()]).toEqual(['w1', 'w2']);
    expect(m.events).toHaveLength(1);
    expect(m.throughput.map((p) => p.rate)).toEqual([1, 2]);
  });

  test('deltas upsert jobs and workers, remove workers, append events and points', () => {
    const m = new DashboardModel();
    m.reset(snapshot(10_000));
    const before = m.version;
    const points = m.throughput;
    m.apply(
      delta(10_250, {
        jobs: [job('j1', 4), job('j2', 0)],
        workers: [worker('w3'), worker('w1', 7)],
        removedWorkers: [workerId('w2')],
        events: [{ at: 10_250, kind: 'left', text: 'w2 left' }],
      }),
    );
    expect(m.version).toBe(before + 1);
    expect(m.jobs.get('j1')?.counts.done).toBe(4);
    expect(m.jobs.size).toBe(2);
    expect([...m.workers.keys()].sort()).toEqual(['w1', 'w3']);
    expect(m.workers.get('w1')?.done).toBe(7);
    expect(m.events.map((e) => e.kind)).toEqual(['joined', 'left']);
    expect(m.throughput.map((p) => p.rate)).toEqual([1, 2, 3]);
    expect(m.throughput).not.toBe(points); // a new array: lit sees the change
  });

  test('a worker removed and re-added in one delta stays', () => {
    const m = new DashboardModel();
    m.reset(snapshot(10_000));
    m.apply(
      delta(10_250, {
        workers: [worker('w1', 1)],
        removedWorkers: [workerId('w1')],
      }),
    );
    expect(m.workers.get('w1')?.done).toBe(1);
  });

  test('keeps a bounded feed and a bounded throughput window', () => {
    const m = new DashboardModel();
    m.reset(snapshot(10_000));
    for (let i = 1; i <= 3_000; i++) {
      m.apply(
        delta(10_000 + i * 250, {
          events: [{ at: 10_000 + i * 250, kind: 'failed', text: `e${i}` }],
        }),
      );
    }
    expect(m.events).toHaveLength(MAX_EVENTS);
    expect(m.events[m.events.length - 1]?.text).toBe('e3000');
    const first = m.throughput[0];
    expect(first && m.at - first.at).toBeLessThanOrEqual(THROUGHPUT_WINDOW_MS);
  });

  test('out-of-order throughput points are dropped, repeated ones replaced', () => {
    const m = new DashboardModel();
    m.reset(snapshot(10_000));
    m.apply(delta(10_500, { throughput: { at: 10_500, rate: 5 } }));
    m.apply(delta(10_500, { throughput: { at: 10_500, rate: 6 } }));
    m.apply(delta(10_600, { throughput: { at: 10_400, rate: 9 } }));
    expect(m.throughput.map((p) => p.rate)).toEqual([1, 2, 6]);
  });
});
