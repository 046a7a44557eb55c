import { describe, expect, test } from 'vitest';
import {
  assigned,
  crashed,
  credit,
  feeds,
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

describe('results', () => {
  test('a success is recorded once and counted for its worker', () => {
    const s = makeScheduler();
    join(s, 'w1');
    submit(s, 'j', 2);
    credit(s, 'w1', 2);
    const commands = send(s, 'w1', [ok(2, { y: 2 })]);
    expect(commands).toEqual([
      {
        type: 'record',
        jobId: 'j',
        index: 1,
        outcome: { ok: true, output: { y: 2 } },
      },
    ]);
    expect(s.workerView('w1')).toMatchObject({ done: 1, inFlight: 1 });
    expect(s.jobView('j')?.counts).toMatchObject({ running: 1, done: 1 });
  });

  test('a task that throws is retried on another worker', () => {
    const s = makeScheduler();
    join(s, 'w1');
    join(s, 'w2');
    submit(s, 'j', 1);
    credit(s, 'w1', 5);
    const retry = send(s, 'w1', [thrown(1, 'TypeError: x is undefined')]);
    expect(records(retry)).toEqual([]);
    // w1 still has credit but is skipped for this task.
    expect(assigned(retry)).toEqual([]);
    expect(s.jobView('j')?.errors).toEqual([
      { index: 0, error: 'TypeError: x is undefined' },
    ]);
    expect(assigned(credit(s, 'w2', 1))).toEqual([
      { jobId: 'j', index: 0, lease: 2, attempt: 2 },
    ]);
  });

  test('a task that throws on the only worker is retried there', () => {
    const s = makeScheduler();
    join(s, 'w1');
    submit(s, 'j', 1);
    credit(s, 'w1', 5);
    expect(assigned(send(s, 'w1', [thrown(1)]))).toEqual([
      { jobId: 'j', index: 0, lease: 2, attempt: 2 },
    ]);
  });

  test('a retried task skips its last worker but the worker gets other tasks', () => {
    const s = makeScheduler();
    join(s, 'w1');
    join(s, 'w2');
    submit(s, 'j', 3);
    credit(s, 'w1', 1);
    expect(assigned(send(s, 'w1', [thrown(1)]))).toEqual([]);
    expect(assigned(credit(s, 'w1', 2)).map((t) => t.index)).toEqual([1, 2]);
    expect(assigned(credit(s, 'w2', 2)).map((t) => t.index)).toEqual([0]);
  });

  test('after maxAttempts throws the task fails with its own message; the job goes on', () => {
    const s = makeScheduler();
    join(s, 'w1');
    submit(s, 'j', 2, { maxAttempts: 2, name: 'render' });
    credit(s, 'w1', 10);
    send(s, 'w1', [thrown(1, 'bad input')]); // retried as lease 3
    const failed = send(s, 'w1', [thrown(3, 'bad input')]);
    expect(records(failed)).toEqual([
      {
        type: 'record',
        jobId: 'j',
        index: 0,
        outcome: { ok: false, error: 'bad input', code: 'E_TASK_FAILED' },
      },
    ]);
    expect(feeds(failed)).toEqual([
      { kind: 'failed', text: 'task 0 of job render failed: bad input' },
    ]);
    const done = send(s, 'w1', [ok(2)]);
    expect(ofType(done, 'job-finished')).toEqual([
      { type: 'job-finished', jobId: 'j', state: 'completed', at: 0 },
    ]);
    expect(feeds(done)).toEqual([
      { kind: 'completed', text: 'job render completed (1 done, 1 failed)' },
    ]);
    expect(s.jobView('j')?.counts).toEqual({
      total: 2,
      queued: 0,
      running: 0,
      done: 1,
      failed: 1,
    });
  });

  test('a task that kills its worker 3 times fails with E_TASK_KILLED_WORKERS', () => {
    const s = makeScheduler();
    join(s, 'w1');
    submit(s, 'j', 1, { maxAttempts: 10 });
    credit(s, 'w1', 10);
    send(s, 'w1', [crashed(1, 'out of memory')]);
    send(s, 'w1', [crashed(2, 'exited with code 1')]);
    const failed = send(s, 'w1', [crashed(3, 'timed out after 60000 ms')]);
    expect(records(failed)).toEqual([
      {
        type: 'record',
        jobId: 'j',
        index: 0,
        outcome: {
          ok: false,
          error: 'killed its worker 3 times; last: timed out after 60000 ms',
          code: 'E_TASK_KILLED_WORKERS',
        },
      },
    ]);
  });

  test('throws and deaths are counted apart', () => {
    const s = makeScheduler({ maxWorkerDeaths: 2 });
    join(s, 'w1');
    submit(s, 'j', 1, { maxAttempts: 2 });
    credit(s, 'w1', 10);
    send(s, 'w1', [thrown(1)]);
    send(s, 'w1', [crashed(2)]);
    const failed = send(s, 'w1', [crashed(3, 'oom')]);
    expect(records(failed)[0]?.outcome).toEqual({
      ok: false,
      error: 'killed its worker 2 times; last: oom',
      code: 'E_TASK_KILLED_WORKERS',
    });
  });

  test('a task dispatched too often without a result fails with E_TOO_MANY_DISPATCHES', () => {
    const s = makeScheduler({ leaseGraceMs: 0 });
    join(s, 'w1');
    submit(s, 'j', 1, { timeoutMs: 100 });
    credit(s, 'w1', 1_000, 0);
    // Bound: 2 * (maxAttempts 5 + maxWorkerDeaths 3) + 10 = 26 dispatches.
    let at = 0;
    let attempts = 1;
    for (;;) {
      at += 100;
      const commands = tick(s, at);
      const again = assigned(commands);
      if (again.length === 0) {
        expect(records(commands)).toEqual([
          {
            type: 'record',
            jobId: 'j',
            index: 0,
            outcome: {
              ok: false,
              error: 'dispatched 26 times without a result',
              code: 'E_TOO_MANY_DISPATCHES',
            },
          },
        ]);
        break;
      }
      attempts = again[0]?.attempt ?? 0;
    }
    expect(attempts).toBe(26);
    expect(s.jobView('j')?.state).toBe('completed');
    expect(s.nextWakeAt()).toBeUndefined();
  });

  test('the last five task errors are kept, newest last', () => {
    const s = makeScheduler();
    join(s, 'w1');
    submit(s, 'j', 7, { maxAttempts: 1 });
    credit(s, 'w1', 7);
    send(
      s,
      'w1',
      Array.from({ length: 7 }, (_, k) => thrown(k + 1, `e${k}`)),
    );
    expect(s.jobView('j')?.errors).toEqual(
      [2, 3, 4, 5, 6].map((index) => ({ index, error: `e${index}` })),
    );
    expect(s.jobView('j')?.counts).toMatchObject({ failed: 7 });
  });

  test('results for a finished task are ignored', () => {
    const s = makeScheduler({ leaseGraceMs: 0 });
    join(s, 'w1');
    join(s, 'w2');
    submit(s, 'j', 2, { timeoutMs: 100 });
    credit(s, 'w1', 1, 0);
    credit(s, 'w2', 1, 100); // task 0 again, lease 2
    send(s, 'w2', [ok(2)], 110);
    expect(send(s, 'w1', [thrown(1)], 120)).toEqual([]);
    expect(send(s, 'w1', [crashed(1)], 130)).toEqual([
      expect.objectContaining({ type: 'reject-result', lease: 1 }),
    ]);
    expect(tick(s, 1_000)).toEqual([]);
  });
});

describe('failures in the event feed', () => {
  test('one per job a second; the ones held back are counted into the next', () => {
    const s = makeScheduler();
    join(s, 'w1');
    submit(s, 'j', 5, { maxAttempts: 1, name: 'render' });
    submit(s, 'k', 2, { maxAttempts: 1, name: 'other' });
    // The lease each task was given, by job and index.
    const lease = new Map(
      assigned(credit(s, 'w1', 10)).map((a) => [
        `${a.jobId}/${a.index}`,
        Number(a.lease),
      ]),
    );
    const fail = (task: string, at: number) =>
      feeds(send(s, 'w1', [thrown(lease.get(task)!, task)], at));
    expect(fail('j/0', 0)).toEqual([
      { kind: 'failed', text: 'task 0 of job render failed: j/0' },
    ]);
    expect(fail('j/1', 0)).toEqual([]);
    // Another job's failures are its own.
    expect(fail('k/0', 500)).toEqual([
      { kind: 'failed', text: 'task 0 of job other failed: k/0' },
    ]);
    expect(fail('j/2', 999)).toEqual([]);
    expect(fail('j/3', 1_000)).toEqual([
      {
        kind: 'failed',
        text: 'task 3 of job render failed: j/3; 2 more failed since the last one shown',
      },
    ]);
    // Every failure is still recorded and counted.
    expect(s.jobView('j')?.counts).toMatchObject({ failed: 4 });
  });
});
