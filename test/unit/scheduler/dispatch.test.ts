import { describe, expect, test } from 'vitest';
import {
  assigned,
  credit,
  join,
  leave,
  makeScheduler,
  ofType,
  ok,
  send,
  submit,
  tick,
} from '../../helpers/scheduler.js';

describe('dispatch', () => {
  test('a worker gets one batch of up to its credit, leases increasing, attempt 1', () => {
    const s = makeScheduler();
    join(s, 'w1');
    expect(assigned(submit(s, 'j', 10))).toEqual([]);

    const commands = credit(s, 'w1', 4);
    expect(ofType(commands, 'assign')).toEqual([
      {
        type: 'assign',
        workerId: 'w1',
        tasks: [0, 1, 2, 3].map((index) => ({
          jobId: 'j',
          index,
          lease: index + 1,
          attempt: 1,
        })),
      },
    ]);
    expect(s.workerView('w1')?.inFlight).toBe(4);
    expect(s.jobView('j')?.counts).toEqual({
      total: 10,
      queued: 6,
      running: 4,
      done: 0,
      failed: 0,
    });
  });

  test('credit is additive and is spent when tasks arrive', () => {
    const s = makeScheduler();
    join(s, 'w1');
    credit(s, 'w1', 3);
    credit(s, 'w1', 2);
    expect(assigned(submit(s, 'j', 10)).map((t) => t.index)).toEqual([
      0, 1, 2, 3, 4,
    ]);
    // Spent: nothing more until the worker grants more.
    expect(assigned(tick(s, 1))).toEqual([]);
    expect(assigned(credit(s, 'w1', 1, 2)).map((t) => t.index)).toEqual([5]);
  });

  test('maxBatch caps one assign; the rest follows on the next event', () => {
    const s = makeScheduler({ maxBatch: 3 });
    join(s, 'w1');
    submit(s, 'j', 10);
    const first = credit(s, 'w1', 5);
    expect(ofType(first, 'assign')).toHaveLength(1);
    expect(assigned(first)).toHaveLength(3);
    expect(assigned(tick(s, 1)).map((t) => t.index)).toEqual([3, 4]);
  });

  test('one assign per worker per call, and workers are served in rotation', () => {
    const s = makeScheduler();
    join(s, 'w1');
    join(s, 'w2');
    credit(s, 'w1', 5);
    credit(s, 'w2', 5);
    submit(s, 'j', 0, { sealed: false });

    const owner = (count: number): string[] =>
      ofType(
        s.handle({ type: 'inputs-appended', jobId: 'j', count, at: 0 }),
        'assign',
      ).map((c) => c.workerId);
    expect(owner(1)).toEqual(['w1']);
    expect(owner(1)).toEqual(['w2']);
    expect(owner(1)).toEqual(['w1']);
    // Enough for both: each gets one assign with its share.
    const both = s.handle({
      type: 'inputs-appended',
      jobId: 'j',
      count: 6,
      at: 0,
    });
    expect(ofType(both, 'assign').map((c) => c.workerId)).toEqual(['w2', 'w1']);
    expect(assigned(both, 'w2')).toHaveLength(4);
    expect(assigned(both, 'w1')).toHaveLength(2);
  });

  test('fresh tasks go in index order; appended inputs extend the job', () => {
    const s = makeScheduler();
    join(s, 'w1');
    credit(s, 'w1', 100);
    expect(
      assigned(submit(s, 'j', 2, { sealed: false })).map((t) => t.index),
    ).toEqual([0, 1]);
    const more = s.handle({
      type: 'inputs-appended',
      jobId: 'j',
      count: 3,
      at: 1,
    });
    expect(assigned(more).map((t) => t.index)).toEqual([2, 3, 4]);
    expect(s.taskCount('j')).toBe(5);
    expect(s.jobView('j')?.spec.taskCount).toBe(5);
  });

  test('re-queued tasks come before fresh ones, with their attempt counted', () => {
    const s = makeScheduler();
    join(s, 'w1', 2);
    credit(s, 'w1', 2);
    submit(s, 'j', 5);
    leave(s, 'w1', true);
    join(s, 'w2');
    expect(assigned(credit(s, 'w2', 4))).toEqual([
      { jobId: 'j', index: 0, lease: 3, attempt: 2 },
      { jobId: 'j', index: 1, lease: 4, attempt: 2 },
      { jobId: 'j', index: 2, lease: 5, attempt: 1 },
      { jobId: 'j', index: 3, lease: 6, attempt: 1 },
    ]);
  });

  test('a worker with credit but nothing queued keeps its credit', () => {
    const s = makeScheduler();
    join(s, 'w1');
    credit(s, 'w1', 3);
    submit(s, 'a', 1);
    send(s, 'w1', [ok(1)]);
    expect(assigned(submit(s, 'b', 5)).map((t) => t.index)).toEqual([0, 1]);
  });

  test('events naming unknown jobs or workers do nothing', () => {
    const s = makeScheduler();
    submit(s, 'j', 1);
    expect(credit(s, 'ghost', 5)).toEqual([]);
    expect(send(s, 'ghost', [ok(1)])).toEqual([]);
    expect(leave(s, 'ghost', false)).toEqual([]);
    expect(
      s.handle({ type: 'inputs-appended', jobId: 'x', count: 1, at: 0 }),
    ).toEqual([]);
    expect(s.handle({ type: 'job-sealed', jobId: 'x', at: 0 })).toEqual([]);
    expect(s.handle({ type: 'job-cancelled', jobId: 'x', at: 0 })).toEqual([]);
    expect(s.jobView('x')).toBeUndefined();
    expect(s.workerView('ghost')).toBeUndefined();
  });

  test('a second join or submit under a known id is ignored', () => {
    const s = makeScheduler();
    join(s, 'w1', 2);
    expect(join(s, 'w1', 8)).toEqual([]);
    expect(s.workerView('w1')?.slots).toBe(2);
    submit(s, 'j', 3);
    expect(submit(s, 'j', 9)).toEqual([]);
    expect(s.jobView('j')?.counts.total).toBe(3);
  });

  test('options are checked: a bad value is a programmer error', () => {
    expect(() => makeScheduler({ maxBatch: 0 })).toThrow(RangeError);
    expect(() => makeScheduler({ maxWorkerDeaths: 0 })).toThrow(RangeError);
    expect(() => makeScheduler({ maxWorkerDeaths: 256 })).toThrow(RangeError);
    expect(() => makeScheduler({ leaseGraceMs: -1 })).toThrow(RangeError);
  });
});
