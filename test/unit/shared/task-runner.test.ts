/** The thread-side task engine, driven by plain calls with a fake module loader. */
import { describe, expect, test } from 'vitest';
import {
  Status,
  createTaskRunner,
  type FromThread,
  type TaskFunction,
  type ThreadBatch,
} from '../../../shared/task-runner.js';
import { jobId, lease } from '../../helpers/ids.js';

/** One outcome, read out of the columns of the `outcomes` messages. */
interface Outcome {
  lease: number;
  status: Status;
  value: unknown;
}

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
  const outcomes = (): Outcome[] =>
    posted.flatMap((m) => {
      if (m.type !== 'outcomes') return [];
      // The columns of one message have the same length.
      expect(m.status).toHaveLength(m.leases.length);
      expect(m.values).toHaveLength(m.leases.length);
      return m.leases.map((lease, i) => ({
        lease,
        status: m.status[i] as Status,
        value: m.values[i],
      }));
    });
  /** Resolves once `count` outcomes were posted. */
  const until = async (count: number): Promise<Outcome[]> => {
    while (outcomes().length < count)
      await new Promise<void>((resolve) => (resolveIdle = resolve));
    return outcomes();
  };
  return { runner, posted, imports, outcomes, until };
}

/** A `run` message: tasks of job '1' with these leases (index = lease) and inputs. */
const run = (
  leases: number[],
  inputs: unknown[],
  module = 'm',
  deadline = 10_000,
): { type: 'run' } & ThreadBatch => ({
  type: 'run',
  job: jobId('1'),
  module,
  leases: leases.map(lease),
  indexes: leases,
  attempts: leases.map(() => 1),
  inputs,
  deadline,
});

const ok = (lease: number, value: unknown): Outcome => ({
  lease,
  status: Status.ok,
  value,
});
const skipped = (lease: number): Outcome => ({
  lease,
  status: Status.skipped,
  value: null,
});

describe('task runner', () => {
  test('runs sync and async tasks in order, loading each module once', async () => {
    const h = harness({
      m: (x: unknown) => (x as number) * 2,
      a: async (x: unknown) => `${String(x)}!`,
    });
    // One run message per module: they run in the order they came.
    h.runner.handle(run([1], [1]));
    h.runner.handle(run([2], [2], 'a'));
    h.runner.handle(run([3, 4], [3, 4]));
    expect(await h.until(4)).toEqual([
      ok(1, 2),
      ok(2, '2!'),
      ok(3, 6),
      ok(4, 8),
    ]);
    h.runner.handle(run([5], [5]));
    expect((await h.until(5))[4]).toEqual(ok(5, 10));
    expect(h.imports).toEqual(['m', 'a']);
  });

  test('each task gets its own input, index, attempt and job in ctx', async () => {
    const seen: unknown[] = [];
    const h = harness({
      m: (x: unknown, ctx) => {
        seen.push([x, ctx.jobId, ctx.taskIndex, ctx.attempt]);
        return x;
      },
    });
    h.runner.handle({
      type: 'run',
      job: 'j7',
      module: 'm',
      leases: [10, 11, 12].map(lease),
      indexes: [4, 0, 9],
      attempts: [1, 3, 2],
      inputs: ['a', { b: 1 }, null],
      deadline: 10_000,
    });
    // A record leaves the thread as its JSON text; other values as they are.
    expect(await h.until(3)).toEqual([
      ok(10, 'a'),
      { lease: 11, status: Status.json, value: '{"b":1}' },
      ok(12, null),
    ]);
    expect(seen).toEqual([
      ['a', 'j7', 4, 1],
      [{ b: 1 }, 'j7', 0, 3],
      [null, 'j7', 9, 2],
    ]);
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
    h.runner.handle(run([1, 2, 3, 4], ['boom', 'reject', 'bigint', 'undef']));
    h.runner.handle(run([5], [0], 'nodefault'));
    h.runner.handle(run([6], [0], 'missing'));
    const out = await h.until(6);
    expect(out.map((o) => o.lease)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(out.every((o) => o.status === Status.error)).toBe(true);
    expect(out.map((o) => o.value)).toEqual([
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
    h.runner.handle({ type: 'cancel', leases: [lease(2)] });
    h.runner.handle(run([1], [1], 'm', 4_000));
    h.runner.handle(run([2, 3], [2, 3]));
    expect(await h.until(3)).toEqual([skipped(1), skipped(2), ok(3, 3)]);
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
    h.runner.handle(run([1], [1]));
    await running;
    h.runner.handle({ type: 'cancel', leases: [lease(1)] });
    expect(await h.until(1)).toEqual([skipped(1)]);
  });

  test('outcomes of many tiny tasks ride in few messages', async () => {
    const h = harness({ m: (x: unknown) => x });
    const leases = Array.from({ length: 1_000 }, (_, i) => i + 1);
    h.runner.handle(run(leases, leases));
    const out = await h.until(1_000);
    expect(out.map((o) => o.lease)).toEqual(leases);
    expect(out.map((o) => o.value)).toEqual(leases);
    // The clock stands still: past the first outcome, nothing is posted until the
    // batch is done.
    expect(
      h.posted.filter((m) => m.type === 'outcomes').length,
    ).toBeLessThanOrEqual(2);
  });

  test('inputs sent as one JSON array text are parsed in the thread, one per task', async () => {
    const seen: unknown[] = [];
    const h = harness({
      m: (x: unknown) => {
        seen.push(x);
        return x;
      },
    });
    h.runner.handle({
      ...run([1, 2, 3], []),
      inputsJson: '[{"id":"a","n":[1,2]},7,"s"]',
    });
    expect(await h.until(3)).toEqual([
      { lease: 1, status: Status.json, value: '{"id":"a","n":[1,2]}' },
      ok(2, 7),
      ok(3, 's'),
    ]);
    expect(seen).toEqual([{ id: 'a', n: [1, 2] }, 7, 's']);
  });

  test('input text that does not parse into one input per task fails each task in turn', async () => {
    const h = harness({ m: (x: unknown) => x });
    h.runner.handle(run([1], [5]));
    h.runner.handle({ ...run([2, 3], []), inputsJson: '[1,' });
    h.runner.handle({ ...run([4, 5], []), inputsJson: '[1]' });
    const out = await h.until(5);
    expect(out.map((o) => [o.lease, o.status])).toEqual([
      [1, Status.ok],
      [2, Status.error],
      [3, Status.error],
      [4, Status.error],
      [5, Status.error],
    ]);
    expect(String(out[1]?.value)).toMatch(/not valid JSON/);
  });

  test('outputs with bytes stay values; outputs with no JSON form fail', async () => {
    const bytes = new Uint8Array([1, 2]);
    const cycle: Record<string, unknown> = {};
    cycle.self = cycle;
    const outputs: unknown[] = [{ bytes }, cycle, { big: 1n }, [1, 'x']];
    const h = harness({ m: (x: unknown) => outputs[x as number] });
    h.runner.handle(run([1, 2, 3, 4], [0, 1, 2, 3]));
    const out = await h.until(4);
    expect(out[0]).toEqual(ok(1, { bytes }));
    expect(out[1]?.status).toBe(Status.error);
    expect(String(out[1]?.value)).toMatch(/cannot be sent as JSON/);
    expect(out[2]?.status).toBe(Status.error);
    expect(out[3]).toEqual({ lease: 4, status: Status.json, value: '[1,"x"]' });
  });
});
