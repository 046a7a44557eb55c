/**
 * Batch sizes follow the task time the thread measured (its `busy` column), not the
 * time it took to hear from it: on a loaded machine the wait dwarfs tiny tasks.
 */
import { describe, expect, test } from 'vitest';
import { Status } from '../../../../shared/task-runner.js';
import { TaskExecutor } from '../../../../shared/executor/index.js';
import {
  BatchSizer,
  DEFAULT_MAX_BATCH,
  busyTotal,
} from '../../../../shared/executor/batch-size.js';
import { endings, fakeClock, fakeSpawner, tasks } from './fakes.js';

function setup() {
  const clock = fakeClock();
  const pool = fakeSpawner();
  const executor = new TaskExecutor({ threads: 1, spawn: pool.spawn, clock });
  return { clock, pool, executor, ...endings() };
}

/** The thread answers everything it holds, each task measured at `busyMs`. */
function answerMeasured(
  pool: ReturnType<typeof fakeSpawner>,
  busyMs: number | null,
) {
  const thread = pool.live()[0]!;
  const answered = thread.queue.splice(0);
  thread.send({
    type: 'outcomes',
    leases: answered.map((t) => t.lease),
    status: answered.map(() => Status.ok),
    values: answered.map(() => 0),
    ...(busyMs === null ? {} : { busy: answered.map(() => busyMs) }),
  });
}

describe('batch size', () => {
  test('tiny tasks measured by the thread get full batches however late they are heard', () => {
    const { clock, pool, executor, onDone } = setup();
    executor.submit(tasks(5_000, 1), onDone);
    for (let round = 0; round < 10; round++) {
      clock.advance(20); // heard 20 ms later: the machine is busy
      answerMeasured(pool, 0.001);
    }
    // Two batches per thread: of one task before any measure, then of the most.
    const sizes = pool.live()[0]!.runs.map((r) => r.leases.length);
    const most = 2 * DEFAULT_MAX_BATCH;
    expect(sizes.slice(0, 3)).toEqual([2, most, most]);
  });

  test('without a busy column, the time since the thread was heard stands for it', () => {
    const { clock, pool, executor, onDone } = setup();
    executor.submit(tasks(5_000, 1), onDone);
    for (let round = 0; round < 10; round++) {
      clock.advance(20);
      answerMeasured(pool, null);
    }
    // 20 ms for the few tasks of each answer: batches stay at one (two per run).
    const sizes = pool.live()[0]!.runs.map((r) => r.leases.length);
    expect(Math.max(...sizes)).toBe(2);
  });

  test('slow tasks measured by the thread travel alone', () => {
    const { clock, pool, executor, onDone } = setup();
    executor.submit(tasks(50, 1), onDone);
    for (let round = 0; round < 5; round++) {
      clock.advance(1);
      answerMeasured(pool, 50);
    }
    const sizes = pool.live()[0]!.runs.map((r) => r.leases.length);
    expect(Math.max(...sizes)).toBe(2);
  });

  test('busyTotal accepts only a column of the right length of plausible numbers', () => {
    expect(busyTotal([1, 2.5], 2)).toBe(3.5);
    expect(busyTotal([0, 0], 2)).toBe(0.002); // faster than the clock: its step
    expect(busyTotal(undefined, 2)).toBeNull();
    expect(busyTotal([1], 2)).toBeNull();
    expect(busyTotal([1, -1], 2)).toBeNull();
    expect(busyTotal([1, Number.NaN], 2)).toBeNull();
    expect(busyTotal([1, Infinity], 2)).toBeNull();
    expect(busyTotal([1, '2'], 2)).toBeNull();
  });

  test('the sizer aims at the target time per batch, within 1..max', () => {
    const sizer = new BatchSizer(256, 2);
    expect(sizer.size('m')).toBe(1);
    sizer.sample('m', 1, 10); // 0.1 ms a task
    expect(sizer.size('m')).toBe(20);
    const slow = new BatchSizer(256, 2);
    slow.sample('m', 100, 1);
    expect(slow.size('m')).toBe(1);
  });

  test("one module's task time does not size another's batches", () => {
    const sizer = new BatchSizer(256, 2);
    sizer.sample('tiny', 0.01, 10);
    expect(sizer.size('tiny')).toBe(256);
    expect(sizer.size('slow')).toBe(1);
    sizer.sample('slow', 100, 1);
    expect(sizer.size('slow')).toBe(1);
    expect(sizer.size('tiny')).toBe(256);
  });

  test('the estimates kept are bounded: the least recently measured go first', () => {
    const sizer = new BatchSizer(256, 2);
    for (let m = 0; m < 17; m++) sizer.sample(`m${m}`, 0.01, 10);
    expect(sizer.size('m0')).toBe(1);
    expect(sizer.size('m1')).toBe(256);
    expect(sizer.size('m16')).toBe(256);
  });

  test('after tiny tasks of one module, a new module starts with small batches on every thread', () => {
    const clock = fakeClock();
    const pool = fakeSpawner();
    const executor = new TaskExecutor({ threads: 2, spawn: pool.spawn, clock });
    const { onDone } = endings();
    executor.submit(tasks(600, 1), onDone);
    for (let round = 0; round < 4; round++)
      for (const thread of pool.live()) {
        const answered = thread.queue.splice(0);
        if (answered.length === 0) continue;
        thread.send({
          type: 'outcomes',
          leases: answered.map((t) => t.lease),
          status: answered.map(() => Status.ok),
          values: answered.map(() => 0),
          busy: answered.map(() => 0.001),
        });
      }
    executor.submit(tasks(4, 10_000, 5_000, 'b'.repeat(64)), onDone);
    // Two tasks each (one running, one waiting), not all four to the first thread.
    const held = pool.live().map((thread) => thread.queue.length);
    expect(held).toEqual([2, 2]);
  });
});
