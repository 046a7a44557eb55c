/**
 * Crash blame and the watchdog of the shared executor, with fake threads and fake time:
 * a dead thread is blamed on exactly the task it was running, the rest of what it held
 * runs again once, and a task is only ever timed from when its thread started it.
 */
import { describe, expect, test } from 'vitest';
import { TaskExecutor } from '../../../../shared/executor/index.js';
import { endings, fakeClock, fakeSpawner, tasks } from './fakes.js';
import { lease } from '../../../helpers/ids.js';

function setup(slot = true) {
  const clock = fakeClock();
  const pool = fakeSpawner(slot);
  const executor = new TaskExecutor({ threads: 1, spawn: pool.spawn, clock });
  return { clock, pool, executor, ...endings() };
}

/** Answers every task the live threads hold until none is left (bounded). */
function runAll(pool: ReturnType<typeof fakeSpawner>): void {
  for (let round = 0; round < 1_000; round++) {
    const busy = pool.live().filter((t) => t.queue.length > 0);
    if (busy.length === 0) return;
    for (const thread of busy) thread.answer();
  }
  throw new Error('the threads never ran dry');
}

describe('crash blame', () => {
  test('with a shared slot, only the running task is failed; a finished task whose outcome was not posted runs again', () => {
    const { pool, executor, done, onDone } = setup();
    executor.submit(tasks(4, 1), onDone);
    const first = pool.threads[0]!;
    expect(first.queue.map((t) => t.lease)).toEqual([1, 2]);
    first.answer(1);
    expect(first.queue.map((t) => t.lease)).toEqual([2, 3]);
    // Lease 2 finished (outcome not posted), lease 3 runs; then the thread dies.
    first.start(3, 1_000_000);
    first.die('the task ended its thread (exit code 3)');
    expect(first.terminated).toBe(true);
    expect(done.get(3)).toEqual([
      {
        ok: false,
        kind: 'crash',
        error: 'the task ended its thread (exit code 3)',
      },
    ]);
    expect(pool.threads).toHaveLength(2);
    runAll(pool);
    expect(done.get(1)).toEqual([{ ok: true, output: 0 }]);
    expect(done.get(2)).toEqual([{ ok: true, output: 2 }]);
    expect(done.get(4)).toEqual([{ ok: true, output: 6 }]);
    expect(pool.threads[1]!.runs.flatMap((r) => r.leases)).toEqual([2, 4]);
    expect(executor.pending).toBe(0);
    expect(executor.crashes).toBe(1);
  });

  test('a thread that dies between tasks blames none: everything it held runs again', () => {
    const { pool, executor, done, onDone } = setup();
    executor.submit(tasks(2, 1), onDone);
    pool.threads[0]!.die('the task ended its thread (exit code 1)');
    expect(done.size).toBe(0);
    runAll(pool);
    expect([...done.keys()].sort()).toEqual([1, 2]);
    expect([...done.values()].every((e) => e.length === 1 && e[0]!.ok)).toBe(
      true,
    );
    expect(executor.pending).toBe(0);
  });

  test('without a slot, the first unanswered task is blamed', () => {
    const { pool, executor, done, onDone } = setup(false);
    executor.submit(tasks(3, 1), onDone);
    pool.threads[0]!.answer(1);
    pool.threads[0]!.die('the task crashed its Web Worker: out of memory');
    expect(done.get(2)).toEqual([
      {
        ok: false,
        kind: 'crash',
        error: 'the task crashed its Web Worker: out of memory',
      },
    ]);
    runAll(pool);
    expect(done.get(3)).toEqual([{ ok: true, output: 4 }]);
    expect(executor.pending).toBe(0);
  });

  test('a crash of a cancelled task reports nothing, and cancelled tasks are not run again', () => {
    const { pool, executor, done, onDone } = setup();
    executor.submit(tasks(2, 1), onDone);
    const first = pool.threads[0]!;
    executor.cancel([1, 2].map(lease));
    expect(first.posted.at(-1)).toEqual({ type: 'cancel', leases: [1, 2] });
    first.start(1, 1_000_000);
    first.die('boom');
    expect(done.size).toBe(0);
    expect(pool.threads[1]!.runs).toHaveLength(0);
    expect(executor.pending).toBe(0);
  });

  test('a long error message is cut to 4,000 characters', () => {
    const { pool, executor, done, onDone } = setup();
    executor.submit(tasks(1, 1), onDone);
    pool.threads[0]!.start(1, 1_000_000);
    pool.threads[0]!.die('x'.repeat(10_000));
    const [ending] = done.get(1)!;
    expect(ending!.ok === false && ending!.error.length).toBe(4_000);
  });
});

describe('watchdog', () => {
  test('kills a thread whose task runs past timeoutMs + slack from its start, reports a crash, re-runs the rest', () => {
    const { pool, clock, executor, done, onDone } = setup();
    executor.submit(tasks(2, 1, 5_000), onDone);
    const first = pool.threads[0]!;
    first.start(1, clock.now());
    clock.advance(5_200);
    expect(first.terminated).toBe(false);
    clock.advance(100);
    expect(first.terminated).toBe(true);
    const [crash] = done.get(1)!;
    expect(crash).toMatchObject({ ok: false, kind: 'crash' });
    expect(crash!.ok === false && crash!.error).toBe(
      'the task exceeded its lease of 5000 ms and its thread was terminated',
    );
    runAll(pool);
    expect(done.get(2)).toEqual([{ ok: true, output: 2 }]);
    expect(executor.pending).toBe(0);
  });

  test.each([true, false])(
    'never blames a task for the time it waited in the thread behind another (slot: %s)',
    (slot) => {
      const { pool, clock, executor, done, onDone } = setup(slot);
      const t0 = clock.now();
      executor.submit(tasks(2, 1, 5_000), onDone);
      const thread = pool.threads[0]!;
      expect(thread.queue.map((t) => t.lease)).toEqual([1, 2]);
      if (slot) thread.start(1, t0);
      // Task 1 takes 4.5 s of its 5 s; task 2 starts then and hangs.
      clock.advance(4_500);
      thread.answer(1);
      if (slot) thread.start(2, clock.now());
      // 5.4 s after task 2 arrived: measured from its arrival it would be killed now.
      clock.advance(900);
      expect(thread.terminated).toBe(false);
      expect(done.has(2)).toBe(false);
      // 5.3 s after it started: it overran its own lease.
      clock.advance(4_400);
      expect(thread.terminated).toBe(true);
      expect(done.get(2)).toEqual([
        expect.objectContaining({ ok: false, kind: 'crash' }),
      ]);
      expect(executor.pending).toBe(0);
    },
  );

  test('never blames a task for the time it waited in the executor queue', () => {
    const { pool, clock, executor, done, onDone } = setup();
    executor.submit(tasks(3, 1, 5_000), onDone);
    const thread = pool.threads[0]!;
    // Tasks 1 and 2 are in the thread, 3 waits here.
    expect(thread.queue.map((t) => t.lease)).toEqual([1, 2]);
    thread.start(1, clock.now());
    clock.advance(2_000);
    thread.answer(1);
    thread.start(2, clock.now());
    clock.advance(2_000);
    thread.answer(1);
    thread.start(3, clock.now());
    clock.advance(4_000); // 8 s after task 3 arrived, 4 s after it started
    expect(thread.terminated).toBe(false);
    thread.answer();
    expect(done.get(3)).toEqual([{ ok: true, output: 4 }]);
    expect(executor.pending).toBe(0);
  });

  test('a task that started after its lease ended is not reported as a crash', () => {
    const { pool, clock, executor, done, onDone } = setup();
    executor.submit(tasks(1, 1, 1_000), onDone);
    const thread = pool.threads[0]!;
    clock.advance(1_500);
    // The master has re-queued it by now: a crash would count a death against it.
    thread.start(1, clock.now());
    clock.advance(1_300);
    expect(thread.terminated).toBe(true);
    expect(done.size).toBe(0);
    expect(executor.pending).toBe(0);
  });

  test('an idle executor keeps no timer armed', () => {
    const clock = fakeClock();
    let armed = 0;
    const counting = {
      ...clock,
      setTimeout: (fn: () => void, ms: number) => {
        armed++;
        return clock.setTimeout(fn, ms);
      },
    };
    const pool = fakeSpawner();
    const executor = new TaskExecutor({
      threads: 2,
      spawn: pool.spawn,
      clock: counting,
    });
    expect(armed).toBe(0);
    const { onDone } = endings();
    executor.submit(tasks(1, 1), onDone);
    expect(armed).toBe(1);
    pool.threads[0]!.answer();
    clock.advance(1_000);
    expect(armed).toBe(1); // the tick that found nothing to watch did not re-arm
    executor.submit(tasks(1, 2), onDone);
    expect(armed).toBe(2);
  });
});
