/** `leaseInfo`: the task and holder of an active lease, nothing for any other lease. */
import { describe, expect, test } from 'vitest';
import {
  assigned,
  credit,
  join,
  leave,
  makeScheduler,
  ok,
  send,
  submit,
  thrown,
  tick,
} from '../../helpers/scheduler.js';

describe('leaseInfo', () => {
  test('an active lease gives its job, task and worker', () => {
    const s = makeScheduler();
    join(s, 'w1');
    join(s, 'w2');
    submit(s, 'j', 3);
    const tasks = [
      ...assigned(credit(s, 'w1', 2)),
      ...assigned(credit(s, 'w2', 1)),
    ];
    expect(tasks).toHaveLength(3);
    const holders = ['w1', 'w1', 'w2'];
    tasks.forEach((task, i) => {
      expect(s.leaseInfo(task.lease)).toEqual({
        jobId: 'j',
        index: task.index,
        workerId: holders[i],
      });
    });
    expect(s.leaseInfo(9_999)).toBeUndefined();
  });

  test('nothing once the lease ended: answered, failed, expired, cancelled, its worker gone', () => {
    const s = makeScheduler({ leaseGraceMs: 0 });
    join(s, 'w1');
    join(s, 'w2');
    submit(s, 'j', 4, { timeoutMs: 1_000 });
    const [a, b, c] = assigned(credit(s, 'w1', 3));
    const [d] = assigned(credit(s, 'w2', 1));
    if (!a || !b || !c || !d) throw new Error('4 tasks expected');

    send(s, 'w1', [ok(a.lease)], 10);
    expect(s.leaseInfo(a.lease)).toBeUndefined();
    send(s, 'w1', [thrown(b.lease)], 20);
    expect(s.leaseInfo(b.lease)).toBeUndefined();

    leave(s, 'w2', false, 30);
    expect(s.leaseInfo(d.lease)).toBeUndefined();

    expect(s.leaseInfo(c.lease)?.workerId).toBe('w1');
    tick(s, 1_000);
    expect(s.leaseInfo(c.lease)).toBeUndefined();

    // A task dispatched again, then its job cancelled.
    const [e] = assigned(credit(s, 'w1', 1, 1_050));
    if (!e) throw new Error('a task dispatched again expected');
    expect(s.leaseInfo(e.lease)).toEqual({
      jobId: 'j',
      index: e.index,
      workerId: 'w1',
    });
    s.handle({ type: 'job-cancelled', jobId: 'j', at: 1_100 });
    expect(s.leaseInfo(e.lease)).toBeUndefined();
    expect(s.activeLeases).toBe(0);
  });

  test('is a pure query: asking changes nothing', () => {
    const s = makeScheduler();
    join(s, 'w1');
    submit(s, 'j', 1);
    const [task] = assigned(credit(s, 'w1', 1));
    if (!task) throw new Error('a task expected');
    const before = s.jobView('j');
    for (let i = 0; i < 3; i++) s.leaseInfo(task.lease);
    expect(s.jobView('j')).toEqual(before);
    expect(s.workerView('w1')?.inFlight).toBe(1);
    expect(s.activeLeases).toBe(1);
  });
});
