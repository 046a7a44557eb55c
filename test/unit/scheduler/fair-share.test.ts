import { describe, expect, test } from 'vitest';
import {
  assigned,
  credit,
  join,
  makeScheduler,
  ok,
  send,
  submit,
  thrown,
  type TestScheduler,
} from '../../helpers/scheduler.js';

/** Grants `n` credit to w1 and answers everything it gets; returns the job ids in order. */
function run(s: TestScheduler, n: number, at = 0): string[] {
  const tasks = assigned(credit(s, 'w1', n, at));
  send(
    s,
    'w1',
    tasks.map((t) => ok(t.lease)),
    at,
  );
  return tasks.map((t) => t.jobId);
}

function tally(jobs: string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const id of jobs) out[id] = (out[id] ?? 0) + 1;
  return out;
}

describe('fair share', () => {
  test('two jobs of equal priority alternate on one worker', () => {
    const s = makeScheduler();
    join(s, 'w1');
    submit(s, 'a', 100);
    submit(s, 'b', 100);
    expect(run(s, 6)).toEqual(['a', 'b', 'a', 'b', 'a', 'b']);
  });

  test('tasks interleave by weight priority + 1', () => {
    const s = makeScheduler();
    join(s, 'w1');
    submit(s, 'low', 1_000, { priority: 0 });
    submit(s, 'high', 1_000, { priority: 2 });
    const order = run(s, 40);
    expect(tally(order)).toEqual({ low: 10, high: 30 });
    // Interleaved, not in blocks: every window of 4 holds exactly one `low`.
    for (let k = 0; k < 40; k += 4) {
      expect(tally(order.slice(k, k + 4)).low).toBe(1);
    }
  });

  test('a big job does not starve a small one submitted later', () => {
    const s = makeScheduler();
    join(s, 'w1');
    submit(s, 'big', 1_000_000);
    for (let k = 0; k < 10; k++) run(s, 100, k);
    const finished = submit(s, 'small', 5, {}, 20);
    expect(finished).not.toContainEqual(
      expect.objectContaining({ type: 'job-finished' }),
    );
    const order = run(s, 10, 21);
    // It starts level with the big one (ties go to the older job), then alternates.
    expect(order).toEqual([
      'big',
      'small',
      'big',
      'small',
      'big',
      'small',
      'big',
      'small',
      'big',
      'small',
    ]);
    expect(s.jobView('small')?.state).toBe('completed');
    expect(s.jobView('big')?.counts.done).toBe(1_005);
  });

  test('a newly submitted job starts at the current minimum: it does not take everything', () => {
    const s = makeScheduler();
    join(s, 'w1');
    submit(s, 'old', 1_000);
    run(s, 500);
    submit(s, 'new', 1_000);
    // Had it started at pass 0, it would get the next 500 tasks alone.
    expect(tally(run(s, 20))).toEqual({ old: 10, new: 10 });
  });

  test('a job that was idle does not bank its share', () => {
    const s = makeScheduler();
    join(s, 'w1');
    submit(s, 'open', 0, { sealed: false });
    submit(s, 'busy', 1_000);
    run(s, 200);
    s.handle({ type: 'inputs-appended', jobId: 'open', count: 100, at: 1 });
    expect(tally(run(s, 20, 1))).toEqual({ open: 10, busy: 10 });
  });

  test('a job whose queued tasks this worker may not take does not block others', () => {
    const s = makeScheduler();
    join(s, 'w1');
    join(s, 'w2');
    submit(s, 'a', 1, { priority: 100 });
    const [task] = assigned(credit(s, 'w1', 1));
    // It threw on w1: it waits for w2; w1 gets job b's tasks meanwhile.
    send(s, 'w1', [thrown(task?.lease ?? 0, 'x')]);
    submit(s, 'b', 3);
    expect(assigned(credit(s, 'w1', 5)).map((t) => t.jobId)).toEqual([
      'b',
      'b',
      'b',
    ]);
    expect(assigned(credit(s, 'w2', 5)).map((t) => t.jobId)).toEqual(['a']);
  });
});
