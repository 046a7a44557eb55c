import { describe, expect, test } from 'vitest';
import {
  assigned,
  cancelled,
  credit,
  join,
  makeScheduler,
  ofType,
  ok,
  records,
  send,
  submit,
  thrown,
  tick,
} from '../../helpers/scheduler.js';

describe('replicas', () => {
  test('a task goes to k distinct workers at once and is accepted when k agree', () => {
    const s = makeScheduler();
    for (const id of ['w1', 'w2', 'w3']) join(s, id);
    submit(s, 'j', 1, { replicas: 2 });
    const first = credit(s, 'w1', 5);
    // Never two copies of one task on one worker, however much credit it has.
    expect(assigned(first)).toEqual([
      { jobId: 'j', index: 0, lease: 1, attempt: 1 },
    ]);
    expect(s.jobView('j')?.counts).toMatchObject({ queued: 0, running: 1 });
    expect(assigned(credit(s, 'w2', 5))).toEqual([
      { jobId: 'j', index: 0, lease: 2, attempt: 2 },
    ]);
    expect(assigned(credit(s, 'w3', 5))).toEqual([]);

    expect(records(send(s, 'w1', [ok(1, 42)]))).toEqual([]);
    const agreed = send(s, 'w2', [ok(2, 42)]);
    expect(records(agreed)).toEqual([
      {
        type: 'record',
        jobId: 'j',
        index: 0,
        outcome: { ok: true, output: 42 },
      },
    ]);
    expect(ofType(agreed, 'job-finished')).toHaveLength(1);
    expect(s.workerView('w1')?.done).toBe(1);
    expect(s.workerView('w2')?.done).toBe(1);
  });

  test('one worker gets one copy of each task; the next worker the second copies', () => {
    const s = makeScheduler();
    join(s, 'w1');
    join(s, 'w2');
    submit(s, 'j', 3, { replicas: 2 });
    expect(assigned(credit(s, 'w1', 10)).map((t) => t.index)).toEqual([
      0, 1, 2,
    ]);
    expect(
      assigned(credit(s, 'w2', 10))
        .map((t) => t.index)
        .sort(),
    ).toEqual([0, 1, 2]);
  });

  test('on disagreement more copies go to workers not yet used, until k agree', () => {
    const s = makeScheduler();
    for (const id of ['w1', 'w2', 'w3']) join(s, id);
    submit(s, 'j', 1, { replicas: 2 });
    credit(s, 'w1', 5);
    credit(s, 'w2', 5);
    send(s, 'w1', [ok(1, 'a')]);
    // w1 and w2 voted: the third copy can only go to w3.
    const split = send(s, 'w2', [ok(2, 'b')]);
    expect(records(split)).toEqual([]);
    expect(assigned(split)).toEqual([]);
    expect(s.jobView('j')?.counts).toMatchObject({ queued: 1, running: 0 });
    expect(assigned(credit(s, 'w3', 1))).toEqual([
      { jobId: 'j', index: 0, lease: 3, attempt: 3 },
    ]);
    expect(records(send(s, 'w3', [ok(3, 'b')]))).toEqual([
      {
        type: 'record',
        jobId: 'j',
        index: 0,
        outcome: { ok: true, output: 'b' },
      },
    ]);
    expect(s.workerView('w1')?.done).toBe(0);
    expect(s.workerView('w3')?.done).toBe(1);
  });

  test('after maxAttempts extra copies without agreement the task fails', () => {
    const s = makeScheduler();
    const ids = ['w1', 'w2', 'w3', 'w4'];
    for (const id of ids) join(s, id);
    submit(s, 'j', 1, { replicas: 2, maxAttempts: 2 });
    let last: ReturnType<typeof send> = [];
    for (const [k, id] of ids.entries()) {
      const [task] = assigned(credit(s, id, 1));
      expect(task?.lease).toBe(k + 1);
      last = send(s, id, [ok(k + 1, `out-${k}`)]);
    }
    expect(records(last)).toEqual([
      {
        type: 'record',
        jobId: 'j',
        index: 0,
        outcome: {
          ok: false,
          error: 'replicas disagree: 4 results, at most 1 equal, 2 needed',
          code: 'E_REPLICAS_DISAGREE',
        },
      },
    ]);
  });

  test('a failed copy is replaced; a lost one too; agreement cancels the extra copy', () => {
    const s = makeScheduler({ leaseGraceMs: 0 });
    for (const id of ['w1', 'w2', 'w3', 'w4']) join(s, id);
    submit(s, 'j', 1, { replicas: 2, timeoutMs: 1_000 });
    credit(s, 'w1', 1, 0);
    credit(s, 'w2', 1, 0);
    // w1's copy throws: a copy goes to another worker (w3).
    send(s, 'w1', [thrown(1)], 10);
    expect(assigned(credit(s, 'w3', 1, 20))).toEqual([
      { jobId: 'j', index: 0, lease: 3, attempt: 3 },
    ]);
    // w2's copy expires: w4 gets one.
    const expired = credit(s, 'w4', 1, 1_000);
    expect(assigned(expired)).toEqual([
      { jobId: 'j', index: 0, lease: 4, attempt: 4 },
    ]);
    // w3 and the late w2 agree: w4's copy is cancelled.
    send(s, 'w3', [ok(3, 'x')], 1_100);
    const agreed = send(s, 'w2', [ok(2, 'x')], 1_200);
    expect(records(agreed)).toHaveLength(1);
    expect(cancelled(agreed)).toEqual({ w4: [4] });
    expect(tick(s, 5_000)).toEqual([]);
  });

  test('a copy whose holder leaves goes to another worker', () => {
    const s = makeScheduler();
    for (const id of ['w1', 'w2', 'w3']) join(s, id);
    submit(s, 'j', 1, { replicas: 2 });
    credit(s, 'w1', 1);
    credit(s, 'w2', 1);
    s.handle({ type: 'worker-left', workerId: 'w1', clean: true, at: 1 });
    expect(assigned(credit(s, 'w3', 1, 2))).toEqual([
      { jobId: 'j', index: 0, lease: 3, attempt: 3 },
    ]);
    send(s, 'w2', [ok(2, 'v')], 3);
    expect(records(send(s, 'w3', [ok(3, 'v')], 4))).toHaveLength(1);
  });
});
