/**
 * Checkpoints in the scheduler: kept only from the holder of a live lease, the latest
 * one wins (within the master's rate bound), the next attempt resumes from it, and it
 * is dropped once the task has its outcome or the job ends.
 */
import { describe, expect, test } from 'vitest';
import { ErrorCode } from '../../../shared/errors.js';
import {
  CHECKPOINTS_PER_SLOT,
  CHECKPOINT_MIN_INTERVAL_MS,
  WORKER_WINDOW_MS,
} from '../../../server/master/scheduler/checkpoints.js';
import type { Command } from '../../../server/master/scheduler/types.js';
import { TaskMark } from '../../../server/master/scheduler/types.js';
import { lease as toLease } from '../../helpers/ids.js';
import {
  assigned,
  credit,
  feeds,
  jobSpec,
  leave,
  makeScheduler,
  ofType,
  ok,
  send,
  submit,
  tick,
  type TestScheduler as Scheduler,
} from '../../helpers/scheduler.js';

/** A worker that understands `resume`, as colony's own do. */
function joinResuming(s: Scheduler, id: string, resumes = true): void {
  s.handle({
    type: 'worker-joined',
    workerId: id,
    kind: 'node',
    name: id,
    slots: 1,
    resumes,
    at: 0,
  });
}

function checkpoint(
  s: Scheduler,
  workerId: string,
  lease: number,
  state: string,
  at: number,
  bytes = state.length,
): Command[] {
  return s.handle({
    type: 'checkpoint-received',
    workerId,
    lease,
    bytes,
    state,
    at,
  });
}

const saved = (commands: readonly Command[]) =>
  ofType(commands, 'save-checkpoint');
const drops = (commands: readonly Command[]) =>
  ofType(commands, 'drop-checkpoints');

/** Job `j` of one task, dispatched to `a`; `b` waits with credit. */
function oneTaskOnA(): { s: Scheduler; lease: number } {
  const s = makeScheduler();
  joinResuming(s, 'a');
  joinResuming(s, 'b');
  submit(s, 'j', 1);
  const [task] = assigned(credit(s, 'a', 1, 0), 'a');
  if (task === undefined) throw new Error('a got nothing');
  return { s, lease: task.lease };
}

describe('checkpoints', () => {
  test('the holder of a live lease saves one; the next attempt resumes from it', () => {
    const { s, lease } = oneTaskOnA();
    const out = checkpoint(s, 'a', lease, '"step 9"', 1_000);
    expect(saved(out)).toEqual([
      { type: 'save-checkpoint', jobId: 'j', index: 0, state: '"step 9"' },
    ]);
    expect(s.jobView('j')?.checkpoints).toEqual({ tasks: 1, resumed: 0 });

    credit(s, 'b', 1, 1_000);
    const again = assigned(leave(s, 'a', false, 2_000), 'b');
    expect(again).toEqual([
      expect.objectContaining({ index: 0, attempt: 2, resume: true }),
    ]);
    expect(s.jobView('j')?.checkpoints).toEqual({ tasks: 1, resumed: 1 });
  });

  test('a first dispatch, and a task without a checkpoint, start afresh', () => {
    const s = makeScheduler();
    joinResuming(s, 'a');
    joinResuming(s, 'b');
    submit(s, 'j', 2);
    const first = assigned(credit(s, 'a', 2, 0), 'a');
    expect(first.map((t) => t.resume)).toEqual([undefined, undefined]);
    checkpoint(s, 'a', first[0]!.lease, '1', 100);
    credit(s, 'b', 2, 100);
    const again = assigned(leave(s, 'a', true, 200), 'b');
    expect(again.map((t) => [t.index, t.resume])).toEqual([
      [0, true],
      [1, undefined],
    ]);
  });

  test('the resumed dispatch is in the event feed', () => {
    const { s, lease } = oneTaskOnA();
    checkpoint(s, 'a', lease, '1', 100);
    credit(s, 'b', 1, 100);
    const out = leave(s, 'a', false, 200);
    expect(feeds(out)).toContainEqual({
      kind: 'resumed',
      text: 'task 0 of job job-j resumes from its checkpoint on worker b',
    });
  });

  test('a worker that did not say it understands resume starts the task afresh', () => {
    const s = makeScheduler();
    joinResuming(s, 'a');
    joinResuming(s, 'old', false);
    submit(s, 'j', 1);
    const [task] = assigned(credit(s, 'a', 1, 0), 'a');
    checkpoint(s, 'a', task!.lease, '1', 100);
    credit(s, 'old', 1, 100);
    const [again] = assigned(leave(s, 'a', false, 200), 'old');
    expect(again?.resume).toBeUndefined();
    expect(s.jobView('j')?.checkpoints).toEqual({ tasks: 1, resumed: 0 });
  });

  describe('fencing: a stale or foreign lease changes nothing', () => {
    test('another worker’s lease', () => {
      const { s, lease } = oneTaskOnA();
      expect(checkpoint(s, 'b', lease, '"forged"', 100)).toEqual([]);
      expect(s.jobView('j')?.checkpoints.tasks).toBe(0);
    });

    test('a lease never issued', () => {
      const { s, lease } = oneTaskOnA();
      expect(checkpoint(s, 'a', toLease(lease + 1_000), '"x"', 100)).toEqual(
        [],
      );
    });

    test('an expired lease, even from its own holder', () => {
      const { s, lease } = oneTaskOnA();
      checkpoint(s, 'a', lease, '"old"', 100);
      credit(s, 'b', 1, 100);
      // Expiry: timeoutMs 60 000 + 2 000 grace; b takes the task, resuming from "old".
      const [again] = assigned(tick(s, 62_000), 'b');
      expect(again?.resume).toBe(true);
      expect(checkpoint(s, 'a', lease, '"late"', 62_500)).toEqual([]);
      // b's own checkpoint still counts.
      expect(
        saved(checkpoint(s, 'b', again!.lease, '"new"', 62_600)),
      ).toHaveLength(1);
    });

    test('a lease whose task already has its result', () => {
      const { s, lease } = oneTaskOnA();
      send(s, 'a', [ok(lease)], 100);
      expect(checkpoint(s, 'a', lease, '"after"', 200)).toEqual([]);
    });
  });

  test('the latest wins; one sooner than the rate bound after the last is ignored', () => {
    const { s, lease } = oneTaskOnA();
    expect(saved(checkpoint(s, 'a', lease, '1', 1_000))).toHaveLength(1);
    expect(
      checkpoint(s, 'a', lease, '2', 1_000 + CHECKPOINT_MIN_INTERVAL_MS - 1),
    ).toEqual([]);
    expect(
      saved(checkpoint(s, 'a', lease, '3', 1_000 + CHECKPOINT_MIN_INTERVAL_MS)),
    ).toEqual([{ type: 'save-checkpoint', jobId: 'j', index: 0, state: '3' }]);
  });

  test('a worker gets at most 2 checkpoints a second per slot kept, however many leases it holds', () => {
    const s = makeScheduler();
    joinResuming(s, 'a'); // one slot
    submit(s, 'j', 10);
    const tasks = assigned(credit(s, 'a', 10, 0), 'a');
    const burst = (at: number, from: number) =>
      tasks
        .slice(from)
        .flatMap((t) => saved(checkpoint(s, 'a', t.lease, '1', at)));
    expect(burst(1_000, 0)).toHaveLength(CHECKPOINTS_PER_SLOT);
    // The next window: as many again.
    expect(burst(1_000 + WORKER_WINDOW_MS, CHECKPOINTS_PER_SLOT)).toHaveLength(
      CHECKPOINTS_PER_SLOT,
    );
    expect(s.jobView('j')?.checkpoints.tasks).toBe(2 * CHECKPOINTS_PER_SLOT);
  });

  test('one over maxCheckpointBytes is refused with an error frame and not kept', () => {
    const s = makeScheduler();
    joinResuming(s, 'a');
    submit(s, 'j', 1, { maxCheckpointBytes: 10 });
    const [task] = assigned(credit(s, 'a', 1, 0), 'a');
    const out = checkpoint(s, 'a', task!.lease, '"x"', 100, 11);
    expect(saved(out)).toEqual([]);
    expect(ofType(out, 'reject-result')).toEqual([
      expect.objectContaining({
        workerId: 'a',
        lease: task!.lease,
        code: ErrorCode.CheckpointTooLarge,
      }),
    ]);
    expect(saved(checkpoint(s, 'a', task!.lease, '"x"', 200, 10))).toHaveLength(
      1,
    );
  });

  test('dropped when the task’s result is recorded', () => {
    const { s, lease } = oneTaskOnA();
    checkpoint(s, 'a', lease, '1', 100);
    const out = send(s, 'a', [ok(lease)], 200);
    expect(drops(out)).toEqual([
      { type: 'drop-checkpoints', jobId: 'j', index: 0 },
    ]);
    expect(s.jobView('j')?.checkpoints.tasks).toBe(0);
  });

  test('a task without a checkpoint drops nothing when it ends', () => {
    const { s, lease } = oneTaskOnA();
    expect(drops(send(s, 'a', [ok(lease)], 200))).toEqual([]);
  });

  test('every checkpoint of a job is dropped when it is cancelled', () => {
    const s = makeScheduler();
    joinResuming(s, 'a');
    submit(s, 'j', 3);
    const tasks = assigned(credit(s, 'a', 3, 0), 'a');
    checkpoint(s, 'a', tasks[0]!.lease, '1', 100);
    checkpoint(s, 'a', tasks[2]!.lease, '1', 100);
    const out = s.handle({ type: 'job-cancelled', jobId: 'j', at: 200 });
    expect(drops(out)).toEqual([{ type: 'drop-checkpoints', jobId: 'j' }]);
    expect(s.jobView('j')?.checkpoints.tasks).toBe(0);
  });

  test('a restored job resumes its open tasks from the stored checkpoints', () => {
    const s = makeScheduler();
    joinResuming(s, 'a');
    s.handle({
      type: 'job-restored',
      job: jobSpec('j', 3),
      state: 'running',
      finishedAt: null,
      marks: Uint8Array.of(TaskMark.Open, TaskMark.Done, TaskMark.Open),
      // Task 1 is done: a checkpoint left over for it is not resumed from.
      checkpointed: [1, 2],
      at: 0,
    });
    expect(s.jobView('j')?.checkpoints.tasks).toBe(1);
    const tasks = assigned(credit(s, 'a', 2, 0), 'a');
    expect(tasks.map((t) => [t.index, t.resume])).toEqual([
      [0, undefined],
      [2, true],
    ]);
  });
});
