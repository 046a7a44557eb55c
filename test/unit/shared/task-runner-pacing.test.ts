/** The task runner's CPU share (rests between and inside tasks) and hold (pause). */
import { describe, expect, test } from 'vitest';
import {
  Status,
  createTaskRunner,
  type FromThread,
  type TaskContext,
  type ThreadOutcomes,
} from '../../../shared/task-runner.js';
import { lease } from '../../helpers/ids.js';

function harness(fn: (input: unknown, ctx: TaskContext) => unknown) {
  let now = 0;
  const sleeps: number[] = [];
  const posted: FromThread[] = [];
  let wakeUp: (() => void) | null = null;
  const runner = createTaskRunner({
    importModule: () => Promise.resolve({ default: fn }),
    post: (message) => {
      posted.push(message);
      wakeUp?.();
    },
    now: () => now,
    // A sleep passes the time at once (and lets a hold end it: not needed here).
    sleep: (ms) => {
      sleeps.push(ms);
      now += ms;
      return Promise.resolve();
    },
  });
  const outcomes = () =>
    posted
      .filter((m): m is ThreadOutcomes => m.type === 'outcomes')
      .flatMap((m) => m.leases.map((lease, i) => [lease, m.status[i]]));
  const until = async (count: number) => {
    while (outcomes().length < count)
      await new Promise<void>((resolve) => (wakeUp = resolve));
    return outcomes();
  };
  const run = (leases: number[]) =>
    runner.handle({
      type: 'run',
      job: '1',
      module: 'm',
      leases: leases.map(lease),
      indexes: leases,
      attempts: leases.map(() => 1),
      inputs: leases,
      deadline: Number.MAX_SAFE_INTEGER,
    });
  return {
    runner,
    run,
    until,
    sleeps,
    advance: (ms: number) => (now += ms),
  };
}

describe('CPU share in the task runner', () => {
  test('at 100% it never rests', async () => {
    const h = harness(() => {
      h.advance(20);
      return 1;
    });
    h.run([1, 2, 3, 4]);
    await h.until(4);
    expect(h.sleeps).toEqual([]);
  });

  test('at 50% it rests as long as it ran, between tasks', async () => {
    const h = harness(() => {
      h.advance(20);
      return 1;
    });
    h.runner.handle({ type: 'share', percent: 50 });
    h.run([1, 2, 3]);
    await h.until(3);
    // Rests before tasks 2 and 3; the rest owed after task 3 waits for more work.
    expect(h.sleeps).toEqual([20, 20]);
  });

  test('at 25% ctx.pace() rests inside a long task', async () => {
    const h = harness(async (_input, ctx) => {
      for (let step = 0; step < 3; step++) {
        h.advance(10);
        await ctx.pace();
      }
      return 'done';
    });
    h.runner.handle({ type: 'share', percent: 25 });
    h.run([1]);
    await h.until(1);
    expect(h.sleeps).toEqual([30, 30, 30]);
  });

  test('ctx.pace() resolves at once at 100%', async () => {
    const h = harness(async (_input, ctx) => {
      h.advance(50);
      await ctx.pace();
      return 'done';
    });
    h.run([1]);
    expect(await h.until(1)).toEqual([[1, Status.ok]]);
    expect(h.sleeps).toEqual([]);
  });
});

describe('hold', () => {
  test('the running task finishes; the queued ones come back skipped', async () => {
    let release: (() => void) | null = null;
    const h = harness(
      () =>
        new Promise((resolve) => {
          release = () => resolve('out');
        }),
    );
    h.run([1, 2, 3]);
    await new Promise((resolve) => setTimeout(resolve, 0));
    expect(release).not.toBeNull();
    h.runner.handle({ type: 'hold', on: true });
    (release as unknown as () => void)();
    expect(await h.until(3)).toEqual([
      [1, Status.ok],
      [2, Status.skipped],
      [3, Status.skipped],
    ]);
    // Released from the hold, it runs what comes.
    h.runner.handle({ type: 'hold', on: false });
    h.run([4]);
    await new Promise((resolve) => setTimeout(resolve, 0));
    (release as unknown as () => void)();
    expect((await h.until(4))[3]).toEqual([4, Status.ok]);
  });

  test('work handed over while held is answered skipped at once', async () => {
    const h = harness(() => 1);
    h.runner.handle({ type: 'hold', on: true });
    h.run([1, 2]);
    expect(await h.until(2)).toEqual([
      [1, Status.skipped],
      [2, Status.skipped],
    ]);
  });
});
