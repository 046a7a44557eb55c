/**
 * The volunteer's controls in the shared executor, with fake threads: a pause starts
 * nothing more (the queue comes back skipped, threads are told to hold), a resize
 * grows at once and shrinks as threads finish, a share reaches every thread.
 */
import { describe, expect, test } from 'vitest';
import { TaskExecutor } from '../../../../shared/executor/index.js';
import { endings, fakeClock, fakeSpawner, tasks } from './fakes.js';

function setup(threads = 1) {
  const clock = fakeClock();
  const pool = fakeSpawner();
  const executor = new TaskExecutor({ threads, spawn: pool.spawn, clock });
  return { clock, pool, executor, ...endings() };
}

describe('pause', () => {
  test('the queue comes back skipped, threads hold, nothing more is handed out until resume', () => {
    const { pool, executor, done, onDone } = setup(1);
    executor.submit(tasks(10), onDone);
    const thread = pool.threads[0]!;
    // Measured nothing yet: one task per batch, two batches in the thread.
    expect(thread.queue.map((t) => t.lease)).toEqual([1, 2]);
    executor.pause();
    expect(thread.posted.at(-1)).toEqual({ type: 'hold', on: true });
    for (let lease = 3; lease <= 10; lease++)
      expect(done.get(lease)).toEqual([{ ok: 'skipped' }]);
    expect(executor.pending).toBe(2);
    thread.answer();
    expect(executor.pending).toBe(0);
    expect(done.get(1)).toEqual([{ ok: true, output: 0 }]);
    // New work waits while paused.
    executor.submit(tasks(1, 20), onDone);
    expect(thread.queue).toEqual([]);
    executor.resume();
    expect(thread.posted.some((m) => m.type === 'hold' && !m.on)).toBe(true);
    expect(thread.queue.map((t) => t.lease)).toEqual([20]);
  });

  test('a thread spawned while paused is told to hold', () => {
    const { pool, executor } = setup(1);
    executor.pause();
    executor.resize(2);
    expect(pool.threads[1]!.posted).toContainEqual({ type: 'hold', on: true });
  });
});

describe('resize', () => {
  test('grows at once and the new threads get work', () => {
    const { pool, executor, onDone } = setup(1);
    executor.resize(3);
    expect(executor.slots).toBe(3);
    expect(pool.live()).toHaveLength(3);
    executor.submit(tasks(6), onDone);
    for (const thread of pool.live()) expect(thread.queue).toHaveLength(2);
  });

  test('shrinks as the extra threads finish what they hold, with no task lost', () => {
    const { pool, executor, done, onDone } = setup(2);
    executor.submit(tasks(8), onDone);
    executor.resize(1);
    expect(executor.slots).toBe(1);
    const [keep, retire] = pool.threads as [
      (typeof pool.threads)[0],
      (typeof pool.threads)[0],
    ];
    expect(retire.terminated).toBe(false);
    retire.answer();
    expect(retire.terminated).toBe(true);
    while (executor.pending > 0) keep.answer();
    expect(done.size).toBe(8);
    for (const endingsOfLease of done.values())
      expect(endingsOfLease).toHaveLength(1);
    expect(pool.live()).toHaveLength(1);
  });
});

describe('share', () => {
  test('reaches every thread, and threads started later', () => {
    const { pool, executor } = setup(2);
    executor.setShare(50);
    for (const thread of pool.threads)
      expect(thread.posted).toContainEqual({ type: 'share', percent: 50 });
    executor.resize(3);
    expect(pool.threads[2]!.posted).toContainEqual({
      type: 'share',
      percent: 50,
    });
  });
});
