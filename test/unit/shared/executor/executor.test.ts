/**
 * Batching, cancel, outcomes and progress of the shared executor, with fake threads
 * and fake time: every task is reported once whatever the batch sizes, cancelled tasks
 * never report, and nothing a thread posts about leases it does not hold gets through.
 */
import { describe, expect, test } from 'vitest';
import { Status } from '../../../../shared/task-runner.js';
import { TaskExecutor } from '../../../../shared/executor/index.js';
import { DEFAULT_MAX_BATCH } from '../../../../shared/executor/batch-size.js';
import { JsonText } from '../../../../shared/json-text.js';
import {
  endings,
  fakeClock,
  fakeSpawner,
  tasks,
  type FakeThread,
} from './fakes.js';
import { lease } from '../../../helpers/ids.js';

function setup(threads = 1, loadModule?: (hash: string) => Promise<string>) {
  const clock = fakeClock();
  const pool = fakeSpawner();
  const executor = new TaskExecutor({
    threads,
    spawn: pool.spawn,
    clock,
    ...(loadModule ? { loadModule } : {}),
  });
  return { clock, pool, executor, ...endings() };
}

const leasesOf = (thread: FakeThread) => thread.queue.map((t) => t.lease);

describe('batching', () => {
  test('batches of any size over 2 threads: each task reported once with its own output', () => {
    const { pool, clock, executor, done, onDone } = setup(2);
    let first = 1;
    for (const size of [1, 7, 300, 1, 2_000, 45]) {
      executor.submit(tasks(size, first), onDone);
      first += size;
    }
    expect(executor.pending).toBe(first - 1);
    let most = 0;
    for (let round = 0; executor.pending > 0 && round < 10_000; round++) {
      for (const thread of pool.live()) {
        most = Math.max(most, thread.queue.length);
        clock.advance(1); // the thread took 1 ms for what it answers now
        thread.answer();
      }
    }
    expect(executor.pending).toBe(0);
    expect(done.size).toBe(first - 1);
    // Each batch's inputs are 0.. from its first lease: outputs prove the columns match.
    let lease = 1;
    for (const size of [1, 7, 300, 1, 2_000, 45])
      for (let i = 0; i < size; i++)
        expect(done.get(lease++)).toEqual([{ ok: true, output: i * 2 }]);
    // Batches grew from one task as tasks measured fast, at most two batches per thread.
    expect(pool.threads[0]!.runs[0]!.leases).toHaveLength(1);
    expect(most).toBeGreaterThan(2);
    expect(most).toBeLessThanOrEqual(2 * DEFAULT_MAX_BATCH);
    expect(pool.threads).toHaveLength(2);
  });

  test('an empty batch is ignored', () => {
    const { pool, executor, onDone } = setup();
    executor.submit(tasks(0), onDone);
    expect(executor.pending).toBe(0);
    expect(pool.threads[0]!.runs).toHaveLength(0);
  });

  test('a run message carries the slice deadline: received time + timeoutMs', () => {
    const { pool, clock, executor, onDone } = setup();
    executor.submit(tasks(1, 1, 7_000), onDone);
    expect(pool.threads[0]!.runs[0]!.deadline).toBe(clock.now() + 7_000);
  });
});

describe('cancel', () => {
  test('queued tasks are forgotten at once, running ones told to the thread; none of them reports', () => {
    const { pool, executor, done, onDone } = setup();
    executor.submit(tasks(10, 1), onDone);
    const thread = pool.threads[0]!;
    expect(leasesOf(thread)).toEqual([1, 2]);
    executor.cancel([2, 5, 6, 99].map(lease));
    expect(executor.pending).toBe(8); // 2 stays until the thread answers it
    expect(thread.posted.at(-1)).toEqual({ type: 'cancel', leases: [2] });
    for (let round = 0; executor.pending > 0 && round < 100; round++)
      thread.answer();
    expect(executor.pending).toBe(0);
    expect([...done.keys()].sort((a, b) => a - b)).toEqual([
      1, 3, 4, 7, 8, 9, 10,
    ]);
    const ran = thread.runs.flatMap((r) => r.leases);
    expect(ran).not.toContain(5);
    expect(ran).not.toContain(6);
  });

  test('cancelAll drops the queue and cancels what the threads hold', () => {
    const { pool, executor, done, onDone } = setup(2);
    executor.submit(tasks(20, 1), onDone);
    executor.cancelAll();
    expect(executor.pending).toBe(4); // two per thread, until they answer
    for (const thread of pool.threads) {
      expect(thread.posted.at(-1)).toEqual({
        type: 'cancel',
        leases: leasesOf(thread),
      });
      thread.answer();
    }
    expect(executor.pending).toBe(0);
    expect(done.size).toBe(0);
  });

  test('a lease is told to its thread once, however often it is cancelled', () => {
    const { pool, executor, onDone } = setup();
    executor.submit(tasks(1, 1), onDone);
    executor.cancel([1].map(lease));
    executor.cancel([1].map(lease));
    const cancels = pool.threads[0]!.posted.filter((m) => m.type === 'cancel');
    expect(cancels).toEqual([{ type: 'cancel', leases: [1] }]);
  });
});

describe('pending', () => {
  test('reported tasks are no longer pending when their onDone runs', () => {
    const { pool, executor } = setup(1);
    const seen: [number, number][] = [];
    const onDone = (outcomes: { leases: number[] }) =>
      seen.push([outcomes.leases.length, executor.pending]);
    executor.submit(tasks(1, 1), onDone);
    executor.submit(tasks(2, 2), onDone);
    // One message answering the whole first batch and one task of the second.
    pool.threads[0]!.answer(2);
    expect(seen).toEqual([
      [1, 2],
      [1, 1],
    ]);
    pool.threads[0]!.answer();
    expect(seen.at(-1)).toEqual([1, 0]);
  });
});

describe('close', () => {
  test('terminates every thread; nothing is reported or run afterwards', async () => {
    const { pool, executor, done, onDone } = setup(2);
    executor.submit(tasks(10, 1), onDone);
    const held = pool.threads.map((t) => [...t.queue]);
    await executor.close();
    expect(pool.threads.every((t) => t.terminated)).toBe(true);
    expect(executor.pending).toBe(0);
    executor.submit(tasks(1, 50), onDone);
    expect(executor.pending).toBe(0);
    expect(held.flat()).toHaveLength(4);
    expect(pool.threads).toHaveLength(2);
    expect(done.size).toBe(0);
  });
});

describe('outcomes', () => {
  test('errors are failures of kind error; skipped tasks are reported as skipped, with no result', () => {
    const { pool, executor, done, onDone } = setup();
    executor.submit(tasks(2, 1), onDone);
    pool.threads[0]!.send({
      type: 'outcomes',
      leases: [1, 2],
      status: [Status.error, Status.skipped],
      values: ['boom', null],
    });
    expect(done.get(1)).toEqual([{ ok: false, error: 'boom', kind: 'error' }]);
    expect(done.get(2)).toEqual([{ ok: 'skipped' }]);
    expect(executor.pending).toBe(0);
  });

  test('forged, duplicate and out-of-order outcomes are ignored', () => {
    const { pool, executor, done, onDone } = setup(2);
    executor.submit(tasks(4, 1), onDone);
    const [a, b] = pool.threads as [FakeThread, FakeThread];
    expect(leasesOf(a)).toEqual([1, 2]);
    expect(leasesOf(b)).toEqual([3, 4]);
    const forge = (thread: FakeThread, leases: number[]) =>
      thread.send({
        type: 'outcomes',
        leases,
        status: leases.map(() => Status.ok),
        values: leases.map(() => 'forged'),
      });
    forge(a, [99]); // a lease nobody holds
    forge(a, [3]); // another thread's lease
    forge(a, [2]); // its own, but out of order
    expect(done.size).toBe(0);
    expect(executor.pending).toBe(4);
    a.answer(1);
    forge(a, [1]); // a duplicate of an answered lease
    expect(done.get(1)).toEqual([{ ok: true, output: 0 }]);
    a.answer();
    b.answer();
    expect([...done.values()].every((e) => e.length === 1 && e[0]!.ok)).toBe(
      true,
    );
    expect(done.size).toBe(4);
    expect(executor.pending).toBe(0);
  });
});

describe('records as JSON text', () => {
  test('input texts reach the thread as one array text per run, sliced like the columns', () => {
    const { pool, clock, executor, done, onDone } = setup();
    const texts = ['{"a":1}', '[2]', '"x"', '{"b":"]"}', 'null'];
    const batch = tasks(texts.length, 1);
    batch.inputs = texts;
    batch.inputsJson = true;
    executor.submit(batch, onDone);
    const thread = pool.threads[0]!;
    for (let round = 0; executor.pending > 0 && round < 100; round++) {
      clock.advance(1);
      thread.answer(thread.queue.length, () => 0);
    }
    expect(done.size).toBe(texts.length);
    const runs = thread.runs;
    expect(runs.length).toBeGreaterThan(1);
    for (const run of runs) {
      expect(run.inputs).toEqual([]);
      expect(run.inputsJson).toBe(
        `[${run.leases.map((l) => texts[l - 1]).join(',')}]`,
      );
    }
  });

  test('output texts are checked: one compact JSON value passes as text, else the task fails', () => {
    const { pool, executor, done, onDone } = setup();
    const values = [
      '{"a":1}',
      '1],"leases":[7',
      42,
      '{ "a": 1 }',
      `${'['.repeat(300)}${']'.repeat(300)}`,
    ];
    executor.submit(tasks(values.length, 1), onDone);
    const thread = pool.threads[0]!;
    for (let round = 0; executor.pending > 0 && round < 100; round++) {
      const leases = thread.queue.map((t) => t.lease);
      thread.queue.length = 0;
      thread.send({
        type: 'outcomes',
        leases,
        status: leases.map(() => Status.json),
        values: leases.map((l) => values[l - 1]),
      });
    }
    expect(done.get(1)).toEqual([
      { ok: true, output: new JsonText('{"a":1}') },
    ]);
    for (const l of [2, 3, 4, 5])
      expect(done.get(l)).toEqual([
        {
          ok: false,
          error: 'the task thread sent an output that is not JSON text',
          kind: 'error',
        },
      ]);
    expect(executor.pending).toBe(0);
  });

  test('with uncheckedTexts (its host checks them), any string passes as text', () => {
    const clock = fakeClock();
    const pool = fakeSpawner();
    const { done, onDone } = endings();
    const executor = new TaskExecutor({
      threads: 1,
      spawn: pool.spawn,
      clock,
      uncheckedTexts: true,
    });
    executor.submit(tasks(1, 1), onDone);
    executor.submit(tasks(1, 2), onDone);
    const thread = pool.threads[0]!;
    for (let round = 0; executor.pending > 0 && round < 10; round++) {
      const leases = thread.queue.map((t) => t.lease);
      thread.queue.length = 0;
      thread.send({
        type: 'outcomes',
        leases,
        status: leases.map(() => Status.json),
        values: leases.map((l) => (l === 1 ? '{ "a": 1 }' : 5)),
      });
    }
    expect(done.get(1)).toEqual([
      { ok: true, output: new JsonText('{ "a": 1 }') },
    ]);
    expect(done.get(2)?.[0]?.ok).toBe(false);
  });
});

describe('progress', () => {
  test('is passed on only for unanswered, uncancelled leases of that thread, with a fraction in 0..1', () => {
    const { pool, executor, onDone } = setup(2);
    const heard: [number, number][] = [];
    executor.onProgress = (lease, fraction) => heard.push([lease, fraction]);
    executor.submit(tasks(4, 1), onDone);
    const [a, b] = pool.threads as [FakeThread, FakeThread];
    a.send({ type: 'progress', lease: 1, fraction: 0.5 });
    a.send({ type: 'progress', lease: 3, fraction: 0.5 }); // b's lease
    a.send({ type: 'progress', lease: 99, fraction: 0.5 });
    a.send({ type: 'progress', lease: 2, fraction: 2 });
    a.send({ type: 'progress', lease: 2, fraction: Number.NaN });
    b.send({ type: 'progress', lease: 3, fraction: 1 });
    expect(heard).toEqual([
      [1, 0.5],
      [3, 1],
    ]);
    a.answer(1);
    a.send({ type: 'progress', lease: 1, fraction: 0.9 }); // answered
    executor.cancel([2].map(lease));
    a.send({ type: 'progress', lease: 2, fraction: 0.9 }); // cancelled
    expect(heard).toHaveLength(2);
  });
});

describe('modules', () => {
  test('a source is fetched once and posted to each thread once, before its first run', async () => {
    let fetches = 0;
    let release: (source: string) => void = () => undefined;
    const { pool, executor, done, onDone } = setup(2, () => {
      fetches++;
      return new Promise<string>((resolve) => (release = resolve));
    });
    executor.submit(tasks(8, 1), onDone);
    expect(pool.threads.every((t) => t.posted.length === 0)).toBe(true);
    release('export default (x) => x * 2');
    await Promise.resolve();
    await Promise.resolve();
    for (const thread of pool.threads) {
      expect(thread.posted[0]).toEqual({
        type: 'module',
        hash: 'a'.repeat(64),
        source: 'export default (x) => x * 2',
      });
      expect(thread.posted.filter((m) => m.type === 'module')).toHaveLength(1);
    }
    for (let round = 0; executor.pending > 0 && round < 100; round++)
      for (const thread of pool.threads) thread.answer();
    expect(done.size).toBe(8);
    expect(fetches).toBe(1);
  });

  test('tasks of a module that cannot be loaded fail as errors', async () => {
    const { executor, done, onDone } = setup(1, () =>
      Promise.reject(new Error('GET /modules/x.js: 404')),
    );
    executor.submit(tasks(3, 1), onDone);
    await new Promise((resolve) => setImmediate(resolve));
    expect(done.get(2)).toEqual([
      {
        ok: false,
        kind: 'error',
        error: 'could not load the task module: GET /modules/x.js: 404',
      },
    ]);
    expect(done.size).toBe(3);
    expect(executor.pending).toBe(0);
  });
});
