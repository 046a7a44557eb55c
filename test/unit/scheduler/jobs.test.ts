import { describe, expect, test } from 'vitest';
import type { JobView } from '../../../server/master/scheduler/types.js';
import {
  assigned,
  cancelled,
  credit,
  feeds,
  jobSpec,
  join,
  makeScheduler,
  ofType,
  ok,
  records,
  send,
  submit,
  thrown,
  acceptsInputs,
  totalQueued,
} from '../../helpers/scheduler.js';

function expectConsistent(view: JobView | undefined): void {
  const c = view?.counts;
  expect(c).toBeDefined();
  if (c) expect(c.queued + c.running + c.done + c.failed).toBe(c.total);
}

describe('job life', () => {
  test('a sealed job with no tasks completes at once', () => {
    const s = makeScheduler();
    const commands = submit(s, 'j', 0, { name: 'empty' }, 7);
    expect(commands).toEqual([
      {
        type: 'feed',
        event: {
          at: 7,
          kind: 'submitted',
          text: 'job empty submitted (0 tasks)',
        },
      },
      { type: 'job-finished', jobId: 'j', state: 'completed', at: 7 },
      {
        type: 'feed',
        event: {
          at: 7,
          kind: 'completed',
          text: 'job empty completed (0 done, 0 failed)',
        },
      },
    ]);
    expect(s.jobView('j')).toMatchObject({ state: 'completed', finishedAt: 7 });
  });

  test('an open job completes only once sealed, and only once', () => {
    const s = makeScheduler();
    join(s, 'w1');
    credit(s, 'w1', 10);
    submit(s, 'j', 2, { sealed: false });
    expect(acceptsInputs(s, 'j')).toBe(true);
    expect(ofType(send(s, 'w1', [ok(1), ok(2)]), 'job-finished')).toEqual([]);
    expect(s.jobView('j')?.state).toBe('running');
    const sealed = s.handle({ type: 'job-sealed', jobId: 'j', at: 3 });
    expect(ofType(sealed, 'job-finished')).toEqual([
      { type: 'job-finished', jobId: 'j', state: 'completed', at: 3 },
    ]);
    expect(acceptsInputs(s, 'j')).toBe(false);
    expect(s.handle({ type: 'job-sealed', jobId: 'j', at: 4 })).toEqual([]);
    expect(
      s.handle({ type: 'inputs-appended', jobId: 'j', count: 1, at: 5 }),
    ).toEqual([]);
    expect(s.jobView('j')?.counts.total).toBe(2);
  });

  test('a sealed job completes when its last task is recorded', () => {
    const s = makeScheduler();
    join(s, 'w1');
    submit(s, 'j', 2, { sealed: false });
    credit(s, 'w1', 10);
    s.handle({ type: 'job-sealed', jobId: 'j', at: 1 });
    expect(ofType(send(s, 'w1', [ok(1)], 2), 'job-finished')).toEqual([]);
    expect(ofType(send(s, 'w1', [ok(2)], 3), 'job-finished')).toEqual([
      { type: 'job-finished', jobId: 'j', state: 'completed', at: 3 },
    ]);
  });

  test('cancel stops every copy on its holders, drops the queue, and ends the job', () => {
    const s = makeScheduler();
    join(s, 'w1');
    join(s, 'w2');
    submit(s, 'j', 10, { name: 'sweep' });
    submit(s, 'other', 3);
    credit(s, 'w1', 2);
    credit(s, 'w2', 1);
    const commands = s.handle({ type: 'job-cancelled', jobId: 'j', at: 9 });
    // Fair share alternates: w1 got j/0 (lease 1) and other/0 (lease 2), w2 j/1 (lease 3).
    expect(cancelled(commands)).toEqual({ w1: [1], w2: [3] });
    expect(ofType(commands, 'job-finished')).toEqual([
      { type: 'job-finished', jobId: 'j', state: 'cancelled', at: 9 },
    ]);
    expect(feeds(commands)).toEqual([
      { kind: 'cancelled', text: 'job sweep cancelled' },
    ]);
    expect(s.jobView('j')).toMatchObject({ state: 'cancelled', finishedAt: 9 });
    expectConsistent(s.jobView('j'));
    expect(s.workerView('w1')?.inFlight).toBe(1);
    expect(s.workerView('w2')?.inFlight).toBe(0);
    // Late results of the cancelled job: no record, no reject.
    expect(send(s, 'w1', [ok(1)], 10)).toEqual([]);
    expect(send(s, 'w2', [thrown(3)], 10)).toEqual([]);
    // Its queue is gone: new credit only reaches the other job.
    expect(assigned(credit(s, 'w2', 10, 11)).map((t) => t.jobId)).toEqual([
      'other',
      'other',
    ]);
    expect(s.handle({ type: 'job-cancelled', jobId: 'j', at: 12 })).toEqual([]);
    expect(totalQueued(s)).toBe(0);
  });

  test('cancelling a completed job does nothing', () => {
    const s = makeScheduler();
    submit(s, 'j', 0);
    expect(s.handle({ type: 'job-cancelled', jobId: 'j', at: 1 })).toEqual([]);
    expect(s.jobView('j')?.state).toBe('completed');
  });

  test('a restored job: done and failed marks stay, open tasks are queued again', () => {
    const s = makeScheduler();
    const commands = s.handle({
      type: 'job-restored',
      job: jobSpec('j', 5),
      state: 'running',
      finishedAt: null,
      marks: Uint8Array.from([1, 0, 2, 0, 1]),
      at: 100,
    });
    expect(commands).toEqual([]);
    expect(s.jobView('j')?.counts).toEqual({
      total: 5,
      queued: 2,
      running: 0,
      done: 2,
      failed: 1,
    });
    join(s, 'w1', 1, 101);
    expect(assigned(credit(s, 'w1', 5, 101))).toEqual([
      { jobId: 'j', index: 1, lease: 1, attempt: 1 },
      { jobId: 'j', index: 3, lease: 2, attempt: 1 },
    ]);
    expect(
      ofType(send(s, 'w1', [ok(1), ok(2)], 102), 'job-finished'),
    ).toHaveLength(1);
  });

  test('a restored finished job stays finished', () => {
    const s = makeScheduler();
    const commands = s.handle({
      type: 'job-restored',
      job: jobSpec('j', 3),
      state: 'cancelled',
      finishedAt: 50,
      marks: Uint8Array.from([1, 0, 0]),
      at: 100,
    });
    expect(commands).toEqual([]);
    expect(s.jobView('j')).toMatchObject({
      state: 'cancelled',
      finishedAt: 50,
    });
    expectConsistent(s.jobView('j'));
    join(s, 'w1');
    expect(assigned(credit(s, 'w1', 5))).toEqual([]);
  });

  test('a restored running job whose tasks are all over completes now', () => {
    const s = makeScheduler();
    const commands = s.handle({
      type: 'job-restored',
      job: jobSpec('j', 2),
      state: 'running',
      finishedAt: null,
      marks: Uint8Array.from([1, 2]),
      at: 100,
    });
    expect(ofType(commands, 'job-finished')).toEqual([
      { type: 'job-finished', jobId: 'j', state: 'completed', at: 100 },
    ]);
  });

  test('views: counts always add up, and feed lines read well', () => {
    const s = makeScheduler();
    const joined = join(s, 'w3', 4, 1);
    expect(feeds(joined)).toEqual([
      { kind: 'joined', text: 'worker w3 (node, 4 slots) joined' },
    ]);
    expect(feeds(join(s, 'tab', 1, 1, 'browser'))).toEqual([
      { kind: 'joined', text: 'worker tab (browser, 1 slot) joined' },
    ]);
    expect(
      feeds(submit(s, 'j', 6, { sealed: false, name: 'mandel' }, 2)),
    ).toEqual([
      { kind: 'submitted', text: 'job mandel submitted (6 tasks, open)' },
    ]);
    expectConsistent(s.jobView('j'));
    credit(s, 'w3', 4, 3);
    expectConsistent(s.jobView('j'));
    send(s, 'w3', [ok(1), thrown(2)], 4);
    const view = s.jobView('j');
    expect(view?.counts).toEqual({
      total: 6,
      queued: 3,
      running: 2,
      done: 1,
      failed: 0,
    });
    expectConsistent(view);
    expect(view?.spec).toMatchObject({
      id: 'j',
      name: 'mandel',
      sealed: false,
      taskCount: 6,
    });
    expect(s.workerViews()).toEqual([
      {
        id: 'w3',
        name: 'w3',
        kind: 'node',
        slots: 4,
        inFlight: 2,
        done: 1,
        disagreed: 0,
        volunteer: '',
        connectedAt: 1,
      },
      {
        id: 'tab',
        name: 'tab',
        kind: 'browser',
        slots: 1,
        inFlight: 0,
        done: 0,
        disagreed: 0,
        volunteer: '',
        connectedAt: 1,
      },
    ]);
    expect(s.jobViews().map((v) => v.spec.id)).toEqual(['j']);
    expect(s.jobName('j')).toBe('mandel');
    expect(s.jobView('j')?.spec.options.timeoutMs).toBe(60_000);
    expect(s.jobView('j')).toBeDefined();
    expect(totalQueued(s)).toBe(3);
    expect(s.activeLeases).toBe(2);
    // Views are copies: mutating one changes nothing inside.
    view?.errors.push({ index: 9, error: 'x' });
    if (view) view.spec.taskCount = 99;
    expect(s.jobView('j')?.errors).toHaveLength(1);
    expect(s.taskCount('j')).toBe(6);
  });

  test('a job of a million tasks costs a few bytes per task and runs', () => {
    const s = makeScheduler({ maxBatch: 10_000 });
    join(s, 'w1', 8);
    submit(s, 'big', 1_000_000);
    let lease = 0;
    for (let round = 0; round < 20; round++) {
      const tasks = assigned(credit(s, 'w1', 10_000, round));
      expect(tasks).toHaveLength(10_000);
      lease = tasks.at(-1)?.lease ?? 0;
      const recorded = records(
        send(
          s,
          'w1',
          tasks.map((t) => ok(t.lease, t.index)),
          round,
        ),
      );
      expect(recorded).toHaveLength(10_000);
    }
    expect(lease).toBe(200_000);
    expect(s.jobView('big')?.counts).toEqual({
      total: 1_000_000,
      queued: 800_000,
      running: 0,
      done: 200_000,
      failed: 0,
    });
  }, 30_000);
});
