import { describe, expect, test } from 'vitest';
import type { TaskBatch } from '../../../shared/protocol.js';
import {
  Status,
  createTaskRunner,
  type FromThread,
  type ToThread,
} from '../../../shared/task-runner.js';
import type { Outcomes } from '../../../shared/worker-session.js';
import { jobId, lease, type Unbranded } from '../../helpers/ids.js';
import {
  WebWorkerExecutor,
  type SpawnThread,
} from '../../../web/src/runner/web-worker-executor.js';

const DOUBLE = 'a'.repeat(64);
const HANG = 'b'.repeat(64);
const THROW = 'c'.repeat(64);
const GATE = 'd'.repeat(64);
const REPORT = 'e'.repeat(64);

let openGate: () => void = () => undefined;
/** `ctx.progress` of the latest REPORT task. */
let reportProgress: (fraction: number) => void = () => undefined;

const modules: Record<string, unknown> = {
  [DOUBLE]: { default: (x: number) => x * 2 },
  [HANG]: { default: () => new Promise(() => undefined) },
  [GATE]: {
    default: () =>
      new Promise<string>((resolve) => {
        openGate = () => resolve('through');
      }),
  },
  [REPORT]: {
    default: (_input: unknown, ctx: { progress(fraction: number): void }) => {
      reportProgress = ctx.progress;
      ctx.progress(0.25);
      return new Promise(() => undefined);
    },
  },
  [THROW]: {
    default: () => {
      throw new Error('boom');
    },
  },
};

/** A clock whose timers run, in time order, only when the test advances it. */
function fakeClock() {
  let now = 1_000_000;
  let nextId = 0;
  const timers = new Map<number, { at: number; fn: () => void }>();
  return {
    now: () => now,
    setTimeout(fn: () => void, ms: number): unknown {
      const id = ++nextId;
      timers.set(id, { at: now + ms, fn });
      return id;
    },
    clearTimeout(handle: unknown) {
      timers.delete(handle as number);
    },
    /** Moves time on by `ms`, running every timer due by then (also those they set). */
    advance(ms: number) {
      const until = now + ms;
      for (;;) {
        let next: [number, { at: number; fn: () => void }] | undefined;
        for (const entry of timers)
          if (entry[1].at <= until && (!next || entry[1].at < next[1].at))
            next = entry;
        if (!next) break;
        timers.delete(next[0]);
        now = Math.max(now, next[1].at);
        next[1].fn();
      }
      now = until;
    },
  };
}

/** Threads that run the real shared task runner in-process, asynchronously. */
function fakeThreads(clock: { now(): number }) {
  const threads: {
    terminated: boolean;
    /** Messages the thread computes but does not post (as a real thread batches them). */
    hold: (message: FromThread) => boolean;
    /** `run` messages the thread was sent. */
    runs: Extract<ToThread, { type: 'run' }>[];
    fail(message: string): void;
    forge(message: Unbranded<FromThread>): void;
  }[] = [];
  const spawn: SpawnThread = (events) => {
    const thread: (typeof threads)[number] = {
      terminated: false,
      hold: () => false,
      runs: [],
      fail: (message: string) => events.onError(message),
      forge: (message) => events.onMessage(message as FromThread),
    };
    let running: Float64Array | null = null;
    const runner = createTaskRunner({
      importModule: (hash) => Promise.resolve(modules[hash]),
      post: (message) => {
        if (!thread.terminated && !thread.hold(message))
          queueMicrotask(() => events.onMessage(message));
      },
      now: () => clock.now(),
      onRunning: (lease, at) => {
        if (!running) return;
        running[1] = at;
        running[0] = lease;
      },
    });
    threads.push(thread);
    return {
      post: (message) =>
        queueMicrotask(() => {
          if (message.type === 'slot')
            running = new Float64Array(message.buffer);
          else {
            if (message.type === 'run') thread.runs.push(message);
            runner.handle(message);
          }
        }),
      terminate: () => {
        thread.terminated = true;
      },
    };
  };
  return { spawn, threads };
}

/** A batch of `count` tasks of one job: leases from `firstLease`, indexes and inputs 0.. */
function tasks(
  module: string,
  count: number,
  firstLease = 1,
  timeoutMs = 5_000,
): TaskBatch {
  const indexes = Array.from({ length: count }, (_, i) => i);
  return {
    job: jobId('job-1'),
    module,
    timeoutMs,
    name: 'test',
    leases: indexes.map((i) => lease(firstLease + i)),
    indexes,
    attempts: indexes.map(() => 1),
    inputs: indexes,
  };
}

/** How one task ended, as the tests compare it. */
type Ending =
  | { ok: true; output: unknown }
  | { ok: false; error: string; kind: 'error' | 'crash' };

/** Lets the fake threads run to quiescence (no time passes on the fake clock). */
async function settle(): Promise<void> {
  for (let i = 0; i < 3; i++) {
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
}

function setup(threads = 2, sharedSlots = false) {
  const clock = fakeClock();
  const pool = fakeThreads(clock);
  const executor = new WebWorkerExecutor({
    threads,
    spawn: pool.spawn,
    clock,
    sharedSlots,
  });
  /** Every ending reported for each lease (a lease must be reported at most once). */
  const done = new Map<number, Ending[]>();
  const record = (lease: number, ending: Ending) =>
    done.set(lease, [...(done.get(lease) ?? []), ending]);
  const onDone = (outcomes: Outcomes) => {
    expect(outcomes.outputs).toHaveLength(outcomes.leases.length);
    outcomes.leases.forEach((lease, i) =>
      record(lease, { ok: true, output: outcomes.outputs[i] }),
    );
    for (const { lease, error, kind } of outcomes.failures)
      record(lease, { ok: false, error, kind });
  };
  return { clock, pool, executor, done, onDone };
}

describe('WebWorkerExecutor', () => {
  test('runs every task once on at most `threads` threads', async () => {
    const { executor, pool, done, onDone } = setup(3);
    executor.submit(tasks(DOUBLE, 100), onDone);
    expect(executor.pending).toBe(100);
    await settle();
    expect(done.size).toBe(100);
    for (let i = 0; i < 100; i++) {
      expect(done.get(i + 1)).toEqual([{ ok: true, output: i * 2 }]);
    }
    expect(executor.pending).toBe(0);
    expect(pool.threads.length).toBeLessThanOrEqual(3);
    expect(pool.threads.length).toBeGreaterThan(1);
  });

  test('a task that throws is an error, not a crash', async () => {
    const { executor, done, onDone } = setup(1);
    executor.submit(tasks(THROW, 1), onDone);
    await settle();
    expect(done.get(1)).toEqual([{ ok: false, error: 'boom', kind: 'error' }]);
  });

  test('the watchdog kills a thread past its lease and re-runs the rest of its batch', async () => {
    const { executor, pool, clock, done, onDone } = setup(1);
    // The thread is busy while the next tasks queue up: it then takes them as one
    // batch of two jobs' tasks, the hanging one first.
    executor.submit({ ...tasks(GATE, 1, 100), job: jobId('job-0') }, onDone);
    await settle();
    executor.submit(tasks(HANG, 1, 1), onDone);
    executor.submit(
      {
        ...tasks(DOUBLE, 3, 10, 60_000),
        job: jobId('job-2'),
        indexes: [1, 2, 3],
      },
      onDone,
    );
    openGate();
    await settle();
    expect(done.get(100)).toEqual([{ ok: true, output: 'through' }]);
    // Tasks reach the thread as run messages of one job each, in columns.
    const runs = pool.threads[0]?.runs.slice(1) ?? [];
    expect(runs.map((r) => [r.job, r.leases, r.indexes])).toEqual([
      ['job-1', [1], [0]],
      ...runs.slice(1).map((r) => ['job-2', r.leases, r.indexes]),
    ]);
    const held = runs.slice(1).flatMap((r) => r.leases);
    expect(held.length).toBeGreaterThan(0);
    expect(held).toEqual([10, 11, 12].slice(0, held.length));
    expect(runs.slice(1).flatMap((r) => r.indexes)).toEqual(
      [1, 2, 3].slice(0, held.length),
    );
    expect(done.size).toBe(1);
    // The hanging task started when the gate opened: killed once it has run past its
    // lease of 5 s plus the executor's slack (200 ms), not before.
    clock.advance(5_199);
    await settle();
    expect(done.size).toBe(1);
    clock.advance(101);
    await settle();
    const crash = done.get(1)?.[0];
    expect(crash).toMatchObject({ ok: false, kind: 'crash' });
    expect(crash && !crash.ok && crash.error).toMatch(
      /exceeded its lease of 5000 ms/,
    );
    expect(pool.threads[0]?.terminated).toBe(true);
    expect(pool.threads).toHaveLength(2);
    expect([10, 11, 12].map((l) => done.get(l))).toEqual([
      [{ ok: true, output: 0 }],
      [{ ok: true, output: 2 }],
      [{ ok: true, output: 4 }],
    ]);
    expect(executor.crashes).toBe(1);
    expect(executor.pending).toBe(0);
  });

  test('an error event is a crash of the current task', async () => {
    const { executor, pool, done, onDone } = setup(1);
    executor.submit(tasks(HANG, 1), onDone);
    await settle();
    pool.threads[0]?.fail('out of memory');
    await settle();
    expect(done.get(1)).toEqual([
      {
        ok: false,
        kind: 'crash',
        error: expect.stringContaining('out of memory') as string,
      },
    ]);
    expect(executor.pending).toBe(0);
  });

  test('with shared slots, a crash is blamed on the running task, not on a finished one whose outcome was not posted yet', async () => {
    const { executor, pool, done, onDone } = setup(1, true);
    executor.submit(tasks(GATE, 1, 1), onDone);
    await settle();
    // Queued behind lease 1, then handed to the thread as one batch.
    executor.submit(tasks(DOUBLE, 1, 2), onDone);
    executor.submit(tasks(HANG, 1, 3), onDone);
    const thread = pool.threads[0]!;
    thread.hold = (m) => m.type === 'outcomes' && m.leases.includes(lease(2));
    openGate();
    await settle();
    expect(done.get(1)).toEqual([{ ok: true, output: 'through' }]);
    expect(thread.runs.map((r) => r.leases)).toEqual([[1], [2], [3]]);
    // Lease 2 finished (outcome held back), lease 3 hangs; then the thread dies.
    thread.fail('out of memory');
    await settle();
    expect(done.get(3)).toEqual([
      {
        ok: false,
        kind: 'crash',
        error: expect.stringContaining('out of memory') as string,
      },
    ]);
    // The finished-but-unposted task runs again on the new thread: no blame, a result.
    expect(done.get(2)).toEqual([{ ok: true, output: 0 }]);
    expect(pool.threads).toHaveLength(2);
    expect(executor.pending).toBe(0);
  });

  test('cancelled tasks, queued or running, report nothing', async () => {
    const { executor, done, onDone, clock } = setup(1);
    executor.submit(tasks(HANG, 1, 1), onDone);
    executor.submit(tasks(DOUBLE, 40, 100, 60_000), onDone);
    executor.cancel([1, 100, 139].map(lease));
    // The queued one leaves at once; the two in the thread when it answers or dies.
    expect(executor.pending).toBe(40);
    await settle();
    clock.advance(6_000); // the cancelled hanging task never answers: the thread is replaced
    await settle();
    expect(done.has(1)).toBe(false);
    expect(done.has(100)).toBe(false);
    expect(done.has(139)).toBe(false);
    expect(done.size).toBe(38);
    expect(executor.pending).toBe(0);
  });

  test('cancelAll forgets everything', async () => {
    const { executor, done, onDone } = setup(2);
    executor.submit(tasks(DOUBLE, 20), onDone);
    executor.cancelAll();
    await settle();
    expect(done.size).toBe(0);
    expect(executor.pending).toBe(0);
  });

  test('a task whose lease ended before it started is skipped silently', async () => {
    const { executor, clock, done, onDone } = setup(1);
    executor.submit(tasks(GATE, 1, 1, 5_000), onDone);
    executor.submit(tasks(DOUBLE, 1, 2, 1_000), onDone);
    await settle();
    clock.advance(2_000); // lease 2 ends while lease 1 still runs
    openGate();
    await settle();
    expect(done.get(1)).toEqual([{ ok: true, output: 'through' }]);
    expect(done.has(2)).toBe(false);
    expect(executor.pending).toBe(0);
  });

  test('outcomes for leases a thread was not given are ignored', async () => {
    const { executor, pool, done, onDone } = setup(1);
    executor.submit(tasks(HANG, 1), onDone);
    await settle();
    pool.threads[0]?.forge({
      type: 'outcomes',
      leases: [999],
      status: [Status.ok],
      values: [1],
    });
    expect(done.size).toBe(0);
    expect(executor.pending).toBe(1);
    executor.dispose();
  });

  test('progress of a running task reaches onProgress; none after its cancel, none forged', async () => {
    const { executor, pool, clock, onDone } = setup(1);
    const heard: [number, number][] = [];
    executor.onProgress = (lease, fraction) => heard.push([lease, fraction]);
    executor.submit(tasks(REPORT, 1, 7), onDone);
    await settle();
    expect(heard).toEqual([[7, 0.25]]);
    clock.advance(300);
    reportProgress(0.5);
    await settle();
    expect(heard).toEqual([
      [7, 0.25],
      [7, 0.5],
    ]);
    // Task code may post anything: leases it was not given, fractions out of range.
    pool.threads[0]?.forge({ type: 'progress', lease: 999, fraction: 0.5 });
    pool.threads[0]?.forge({ type: 'progress', lease: 7, fraction: 2 });
    expect(heard).toHaveLength(2);
    executor.cancel([7].map(lease));
    clock.advance(300);
    reportProgress(0.75);
    await settle();
    expect(heard).toHaveLength(2);
    executor.dispose();
  });
});
