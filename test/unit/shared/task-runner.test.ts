/** The thread-side task engine, driven by plain calls with a fake module loader. */
import { describe, expect, test } from 'vitest';
import {
  createTaskRunner,
  type FromThread,
  type TaskFunction,
  type ThreadOutcome,
  type ThreadTask,
} from '../../../shared/task-runner.js';

function harness(
  modules: Record<string, TaskFunction | object>,
  now = () => 1_000,
) {
  const posted: FromThread[] = [];
  const imports: string[] = [];
  let resolveIdle: (() => void) | null = null;
  const runner = createTaskRunner({
    importModule: (hash) => {
      imports.push(hash);
      const mod = modules[hash];
      return mod
        ? Promise.resolve(typeof mod === 'function' ? { default: mod } : mod)
        : Promise.reject(new Error('404'));
    },
    post: (message) => {
      posted.push(message);
      resolveIdle?.();
    },
    now,
  });
  const outcomes = () =>
    posted.flatMap((m) => (m.type === 'outcomes' ? m.outcomes : []));
  /** Resolves once `count` outcomes were posted. */
  const until = async (count: number): Promise<ThreadOutcome[]> => {
    while (outcomes().length < count)
      await new Promise<void>((resolve) => (resolveIdle = resolve));
    return outcomes();
  };
  return { runner, posted, imports, outcomes, until };
}

const task = (
  lease: number,
  input: unknown,
  module = 'm',
  deadline = 10_000,
): ThreadTask => ({
  lease,
  job: '1',
  index: lease,
  attempt: 1,
  module,
  input,
  deadline,
});

describe('task runner', () => {
  test('runs sync and async tasks in order, loading each module once', async () => {
    const h = harness({
      m: (x: unknown) => (x as number) * 2,
      a: async (x: unknown) => `${String(x)}!`,
    });
    h.runner.handle({
      type: 'run',
      tasks: [task(1, 1), task(2, 2, 'a'), task(3, 3)],
    });
    expect(await h.until(3)).toEqual([
      { lease: 1, ok: true, output: 2 },
      { lease: 2, ok: true, output: '2!' },
      { lease: 3, ok: true, output: 6 },
    ]);
    h.runner.handle({ type: 'run', tasks: [task(4, 4)] });
    await h.until(4);
    expect(h.imports).toEqual(['m', 'a']);
  });

  test('reports throws, bad outputs, missing default exports and failed imports as errors', async () => {
    const h = harness({
      m: (x: unknown) => {
        if (x === 'boom') throw new Error('boom');
        if (x === 'reject') return Promise.reject(new Error('rejected'));
        if (x === 'bigint') return 1n;
        return undefined;
      },
      nodefault: { notDefault: 1 },
    });
    h.runner.handle({
      type: 'run',
      tasks: [
        task(1, 'boom'),
        task(2, 'reject'),
        task(3, 'bigint'),
        task(4, 'undef'),
        task(5, 0, 'nodefault'),
        task(6, 0, 'missing'),
      ],
    });
    const out = await h.until(6);
    expect(out.map((o) => ('error' in o ? o.error : o))).toEqual([
      'boom',
      'rejected',
      expect.stringMatching(/returned a bigint/),
      expect.stringMatching(/returned undefined/),
      expect.stringMatching(/no default export/),
      '404',
    ]);
  });

  test('skips tasks whose lease ran out or that were cancelled before they started', async () => {
    const h = harness({ m: (x: unknown) => x }, () => 5_000);
    h.runner.handle({ type: 'cancel', leases: [2] });
    h.runner.handle({
      type: 'run',
      tasks: [task(1, 1, 'm', 4_000), task(2, 2), task(3, 3)],
    });
    expect(await h.until(3)).toEqual([
      { lease: 1, skipped: true },
      { lease: 2, skipped: true },
      { lease: 3, ok: true, output: 3 },
    ]);
  });

  test('cancel aborts the running task through ctx.signal; its outcome is skipped', async () => {
    let started: (() => void) | null = null;
    const h = harness({
      m: (_x: unknown, ctx) =>
        new Promise((_resolve, reject) => {
          ctx.signal.addEventListener('abort', () =>
            reject(new Error('aborted')),
          );
          started?.();
        }),
    });
    const running = new Promise<void>((resolve) => (started = resolve));
    h.runner.handle({ type: 'run', tasks: [task(1, 1)] });
    await running;
    h.runner.handle({ type: 'cancel', leases: [1] });
    expect(await h.until(1)).toEqual([{ lease: 1, skipped: true }]);
  });
});
