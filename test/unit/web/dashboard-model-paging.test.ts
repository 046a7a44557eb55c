import { describe, expect, test } from 'vitest';
import type { Delta, JobSummary } from '../../../shared/protocol.js';
import { DashboardModel } from '../../../web/src/dashboard-model.js';
import { jobId } from '../../helpers/ids.js';

const job = (id: string, done: number): JobSummary => ({
  id: jobId(id),
  name: id,
  state: 'completed',
  sealed: true,
  priority: 0,
  counts: { total: 10, queued: 0, running: 0, done, failed: 10 - done },
  rate: 0,
  partial: 0,
  createdAt: 0,
  finishedAt: 1,
  errors: [],
});

const delta = (at: number, patch: Partial<Delta> = {}): Delta => ({
  type: 'delta',
  at,
  jobs: [],
  workers: [],
  removedWorkers: [],
  events: [],
  throughput: { at, rate: 0 },
  ...patch,
});

function loaded(): DashboardModel {
  const m = new DashboardModel();
  m.reset({
    type: 'snapshot',
    at: 1_000,
    jobs: [job('5', 10), job('6', 10)],
    workers: [],
    events: [],
    throughput: [],
  });
  return m;
}

describe('DashboardModel: purged and older jobs', () => {
  test('a delta removes purged jobs', () => {
    const m = loaded();
    m.apply(delta(1_250, { removedJobs: [jobId('5')] }));
    expect([...m.jobs.keys()]).toEqual(['6']);
  });

  test('older jobs paged in are added; the live version of a job wins', () => {
    const m = loaded();
    const before = m.version;
    m.addOlder([job('6', 0), job('4', 3), job('3', 3)]);
    expect([...m.jobs.keys()].sort()).toEqual(['3', '4', '5', '6']);
    expect(m.jobs.get('6')?.counts.done).toBe(10);
    expect(m.version).toBe(before + 1);
  });
});
