import { describe, expect, test } from 'vitest';
import type { Command } from '../../../server/master/scheduler/types.js';
import {
  assigned,
  cancelled,
  credit,
  join,
  jobSpec,
  makeScheduler,
  ofType,
  ok,
  records,
  send,
  thrown,
  type TestScheduler,
} from '../../helpers/scheduler.js';

function claim(
  s: TestScheduler,
  id: string,
  taskCount: number,
  indices: number[],
  at = 0,
  counts: { attempts?: number; deaths?: number } = {},
): Command[] {
  return s.handle({
    type: 'tasks-claimed',
    job: jobSpec(id, taskCount),
    tasks: indices.map((index) => ({
      index,
      attempts: counts.attempts ?? 0,
      deaths: counts.deaths ?? 0,
    })),
    at,
  });
}

describe('cluster mode', () => {
  test('only claimed tasks are dispatched; the others are elsewhere', () => {
    const s = makeScheduler({ cluster: true });
    join(s, 'w1');
    credit(s, 'w1', 10);
    const commands = claim(s, 'j', 100, [3, 7, 8]);
    expect(assigned(commands).map((t) => t.index)).toEqual([3, 7, 8]);
    expect(s.jobView('j')?.counts).toEqual({
      total: 100,
      queued: 0,
      running: 3,
      done: 0,
      failed: 0,
    });
    expect(s.demand()).toBe(7);
  });

  test('a claim before the cursor gets a queue entry and is dispatched once', () => {
    const s = makeScheduler({ cluster: true });
    join(s, 'w1');
    claim(s, 'j', 10, [5]);
    expect(assigned(credit(s, 'w1', 1)).map((t) => t.index)).toEqual([5]);
    // Index 2 lies before the cursor (it moved past 5).
    claim(s, 'j', 10, [2]);
    expect(assigned(credit(s, 'w1', 5)).map((t) => t.index)).toEqual([2]);
    expect(s.demand()).toBe(4);
  });

  test('recording every claimed task does not end the job; job-completed does', () => {
    const s = makeScheduler({ cluster: true });
    join(s, 'w1');
    const a = assigned(claim(s, 'j', 2, [0, 1]));
    expect(a).toEqual([]);
    const tasks = assigned(credit(s, 'w1', 2));
    const done = send(
      s,
      'w1',
      tasks.map((t) => ok(t.lease, t.index * 2)),
    );
    expect(records(done).map((r) => r.index)).toEqual([0, 1]);
    expect(ofType(done, 'job-finished')).toEqual([]);
    expect(s.jobView('j')?.state).toBe('running');
    const end = s.handle({ type: 'job-completed', jobId: 'j', at: 5 });
    expect(ofType(end, 'job-finished')).toEqual([
      { type: 'job-finished', jobId: 'j', state: 'completed', at: 5 },
    ]);
    expect(s.jobView('j')?.state).toBe('completed');
  });

  test('job-completed with tasks still open here revokes their leases', () => {
    const s = makeScheduler({ cluster: true });
    join(s, 'w1');
    credit(s, 'w1', 5);
    const [task] = assigned(claim(s, 'j', 3, [1]));
    const end = s.handle({ type: 'job-completed', jobId: 'j', at: 1 });
    expect(cancelled(end)).toEqual({ w1: [task?.lease] });
    // A late result of the revoked lease records nothing.
    expect(records(send(s, 'w1', [ok(task?.lease ?? 0)]))).toEqual([]);
  });

  test('lost claims stop their copies and are never recorded here', () => {
    const s = makeScheduler({ cluster: true });
    join(s, 'w1');
    credit(s, 'w1', 2);
    const tasks = assigned(claim(s, 'j', 4, [0, 1]));
    const lost = s.handle({
      type: 'tasks-lost',
      jobId: 'j',
      indices: [0],
      at: 1,
    });
    expect(cancelled(lost)).toEqual({ w1: [tasks[0]?.lease] });
    const out = send(
      s,
      'w1',
      tasks.map((t) => ok(t.lease)),
    );
    expect(records(out).map((r) => r.index)).toEqual([1]);
    // Claimed again later, the task opens once more.
    credit(s, 'w1', 1);
    expect(assigned(claim(s, 'j', 4, [0])).map((t) => t.index)).toEqual([0]);
  });

  test('earlier owners’ failed attempts carry on', () => {
    const s = makeScheduler({ cluster: true });
    join(s, 'w1');
    credit(s, 'w1', 1);
    // maxAttempts is 5: four failures elsewhere, one more here fails the task.
    const [task] = assigned(claim(s, 'j', 1, [0], 0, { attempts: 4 }));
    const out = send(s, 'w1', [thrown(task?.lease ?? 0)]);
    expect(records(out)).toEqual([
      expect.objectContaining({
        index: 0,
        outcome: expect.objectContaining({ ok: false }),
      }),
    ]);
  });

  test('a lost claim drops its checkpoint: the next owner starts the task afresh', () => {
    const s = makeScheduler({ cluster: true });
    s.handle({
      type: 'worker-joined',
      workerId: 'w1',
      kind: 'node',
      name: 'w1',
      slots: 1,
      resumes: true,
      at: 0,
    });
    credit(s, 'w1', 2);
    const [task] = assigned(claim(s, 'j', 2, [0]));
    const saved = s.handle({
      type: 'checkpoint-received',
      workerId: 'w1',
      lease: task?.lease ?? 0,
      bytes: 3,
      state: '"7"',
      at: 1,
    });
    expect(ofType(saved, 'save-checkpoint')).toHaveLength(1);
    expect(s.jobView('j')?.checkpoints.tasks).toBe(1);
    const lost = s.handle({
      type: 'tasks-lost',
      jobId: 'j',
      indices: [0],
      at: 2,
    });
    expect(ofType(lost, 'drop-checkpoints')).toEqual([
      { type: 'drop-checkpoints', jobId: 'j', index: 0 },
    ]);
    expect(s.jobView('j')?.checkpoints.tasks).toBe(0);
    // Claimed here again later, it does not resume from the checkpoint it lost.
    const again = assigned(claim(s, 'j', 2, [0], 3));
    expect(again.map((t) => [t.index, t.resume])).toEqual([[0, undefined]]);
  });

  test('appended tasks claimed past the known count grow the job', () => {
    const s = makeScheduler({ cluster: true });
    join(s, 'w1');
    credit(s, 'w1', 3);
    claim(s, 'j', 2, [0]);
    const more = claim(s, 'j', 6, [5]);
    expect(assigned(more).map((t) => t.index)).toEqual([5]);
    expect(s.jobView('j')?.counts.total).toBe(6);
  });
  test('a task recorded here under a lapsed claim runs again when claimed again', () => {
    const s = makeScheduler({ cluster: true });
    join(s, 'w1');
    claim(s, 'j', 3, [0, 1]);
    const first = assigned(credit(s, 'w1', 2));
    const done = send(
      s,
      'w1',
      first.map((t) => ok(t.lease, t.index)),
    );
    expect(records(done).map((r) => r.index)).toEqual([0, 1]);
    // The store fenced the record of 1 (the claim had lapsed) and hands it back.
    const again = claim(s, 'j', 3, [1], 10);
    const tasks = [...assigned(again), ...assigned(credit(s, 'w1', 2, 11))];
    expect(tasks.map((t) => t.index)).toEqual([1]);
    expect(s.jobView('j')?.counts).toMatchObject({ done: 1, running: 1 });
    const redone = send(s, 'w1', [ok(tasks[0]!.lease, 1)], 12);
    expect(records(redone).map((r) => r.index)).toEqual([1]);
  });
});
