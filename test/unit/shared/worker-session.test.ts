/** The shared worker loop with a fake transport, executor and clock: plain calls, no sockets. */
import { describe, expect, test, vi } from 'vitest';
import {
  decodeWorkerMessage,
  type TaskBatch,
} from '../../../shared/protocol.js';
import {
  runWorkerSession,
  type Clock,
  type Executor,
  type Outcomes,
  type TransportHandlers,
} from '../../../shared/worker-session.js';
import * as ids from '../../helpers/ids.js';

function fakeClock() {
  let now = 1_000;
  const timers: { at: number; fn: () => void; id: number }[] = [];
  let nextId = 0;
  const clock: Clock = {
    now: () => now,
    setTimeout: (fn, ms) => {
      const id = ++nextId;
      timers.push({ at: now + ms, fn, id });
      return id;
    },
    clearTimeout: (handle) => {
      const at = timers.findIndex((t) => t.id === handle);
      if (at >= 0) timers.splice(at, 1);
    },
    random: () => 0.5,
  };
  const advance = (ms: number) => {
    now += ms;
    for (;;) {
      timers.sort((a, b) => a.at - b.at);
      const due = timers[0];
      if (!due || due.at > now) return;
      timers.shift();
      due.fn();
    }
  };
  return { clock, advance, timers };
}

/** How the fake executor ends one task. */
type Ending =
  | { ok: true; output: unknown }
  | { ok: false; error: string; kind: 'error' | 'crash' };

function fakeExecutor(slots = 2) {
  /** Every batch submitted, as the executor got it. */
  const batches: TaskBatch[] = [];
  const running = new Map<
    number,
    { batch: TaskBatch; onDone: (outcomes: Outcomes) => void }
  >();
  const cancelled: number[] = [];
  const executor: Executor = {
    slots,
    submit: (batch, onDone) => {
      batches.push(batch);
      for (const lease of batch.leases) running.set(lease, { batch, onDone });
    },
    cancel: (leases) => {
      for (const lease of leases)
        if (running.delete(lease)) cancelled.push(lease);
    },
    cancelAll: () => {
      for (const lease of running.keys()) cancelled.push(lease);
      running.clear();
    },
    get pending() {
      return running.size;
    },
  };
  /** Ends these tasks (of one batch) and reports them in one `onDone` call. */
  const finishMany = (endings: [lease: number, ending: Ending][]) => {
    const outcomes: Outcomes = { leases: [], outputs: [], failures: [] };
    let onDone: ((outcomes: Outcomes) => void) | null = null;
    for (const [lease, ending] of endings) {
      const entry = running.get(lease);
      if (!entry) throw new Error(`lease ${lease} not running`);
      running.delete(lease);
      onDone = entry.onDone;
      if (ending.ok) {
        outcomes.leases.push(ids.lease(lease));
        outcomes.outputs.push(ending.output);
      } else {
        outcomes.failures.push({
          lease: ids.lease(lease),
          error: ending.error,
          kind: ending.kind,
        });
      }
    }
    onDone?.(outcomes);
  };
  const finish = (lease: number, ending: Ending) =>
    finishMany([[lease, ending]]);
  return { executor, batches, running, cancelled, finish, finishMany };
}

function fakeConnections() {
  const opened: {
    handlers: TransportHandlers;
    sent: unknown[];
    closed: [number, string] | null;
  }[] = [];
  const connect = (handlers: TransportHandlers) => {
    const conn = {
      handlers,
      sent: [] as unknown[],
      closed: null as [number, string] | null,
    };
    opened.push(conn);
    return {
      send: (frame: string | Uint8Array) =>
        conn.sent.push(JSON.parse(frame as string)),
      close: (code: number, reason: string) => {
        conn.closed = [code, reason];
        handlers.onClose(code, reason);
      },
    };
  };
  return { opened, connect };
}

const MODULE = 'a'.repeat(64);
/** A `tasks` frame as the master sends it: tasks of job '1' (index = input = lease). */
const tasksFrame = (leases: number[], name = 'squares') =>
  JSON.stringify({
    type: 'tasks',
    jobs: { '1': { module: MODULE, timeoutMs: 1_000, name } },
    groups: [
      {
        job: '1',
        leases,
        indexes: leases,
        attempts: leases.map(() => 1),
        inputs: leases,
      },
    ],
  });
const sentOfType = (sent: unknown[], type: string) =>
  sent.filter((m) => (m as { type: string }).type === type);

/** A stand-in for proveHello: marks the nonce it signed. */
const prove = (nonce: string) =>
  Promise.resolve({ publicKey: 'pk', signature: `signed ${nonce}` });

function setup(options: { fixedWindow?: number } = {}) {
  const time = fakeClock();
  const exec = fakeExecutor();
  const net = fakeConnections();
  const statuses: string[] = [];
  const session = runWorkerSession({
    connect: net.connect,
    executor: exec.executor,
    kind: 'node',
    name: 'test',
    prove,
    clock: time.clock,
    onStatus: (s) => statuses.push(s.state),
    ...options,
  });
  const conn = () =>
    net.opened[net.opened.length - 1] as (typeof net.opened)[number];
  const welcome = () => {
    conn().handlers.onOpen();
    conn().handlers.onMessage(
      JSON.stringify({
        type: 'welcome',
        workerId: 'w1',
        heartbeatMs: 1000,
        limits: { maxPayloadBytes: 1e6, maxBatch: 1e4, maxCredit: 1e5 },
      }),
    );
  };
  return { time, exec, net, session, conn, welcome, statuses };
}

describe('worker session', () => {
  test('answers the challenge with a signed hello, then grants its window as credit', async () => {
    const s = setup();
    s.conn().handlers.onOpen();
    // The master speaks first: nothing is sent before its challenge.
    expect(s.conn().sent).toEqual([]);
    s.conn().handlers.onMessage(
      JSON.stringify({ type: 'challenge', nonce: 'n0nce' }),
    );
    await vi.waitFor(() => expect(s.conn().sent).toHaveLength(1));
    s.welcome();
    expect(s.conn().sent).toEqual([
      {
        type: 'hello',
        protocol: 3,
        kind: 'node',
        slots: 2,
        name: 'test',
        volunteer: { publicKey: 'pk', signature: 'signed n0nce' },
        resumes: true,
        standing: true,
      },
      { type: 'ready', credit: 4 },
    ]);
    expect(s.session.status).toMatchObject({
      state: 'connected',
      workerId: 'w1',
    });
  });

  test('runs tasks, returns results when idle, and tops credit back up', () => {
    const s = setup({ fixedWindow: 2 });
    s.welcome();
    s.conn().handlers.onMessage(tasksFrame([1, 2], 'squares'));
    expect(s.exec.running.size).toBe(2);
    // The executor gets the tasks in columns, with their job's module and timeout.
    expect(s.exec.batches).toEqual([
      {
        job: '1',
        leases: [1, 2],
        indexes: [1, 2],
        attempts: [1, 1],
        inputs: [1, 2],
        module: MODULE,
        timeoutMs: 1_000,
        name: 'squares',
      },
    ]);
    expect(s.session.status.jobName).toBe('squares');
    s.exec.finish(1, { ok: true, output: 1 });
    // Not idle yet: the result waits a moment for company.
    expect(sentOfType(s.conn().sent, 'results')).toEqual([]);
    s.exec.finish(2, { ok: false, error: 'boom', kind: 'error' });
    const sent = s.conn().sent.slice(1); // after `ready`
    // One frame: the results, with the credit that tops the window back up.
    expect(sent).toEqual([
      {
        type: 'results',
        leases: [1],
        outputs: [1],
        busyMs: [0],
        failures: [{ lease: 2, error: 'boom', kind: 'error' }],
        credit: 2,
      },
    ]);
    // The ack counts the results it commits.
    s.conn().handlers.onMessage(JSON.stringify({ type: 'ack', count: 2 }));
    expect(s.session.status.done).toBe(2);
  });

  test('a fresh window opens as soon as the first results show tiny tasks, not a slow one', () => {
    for (const [busyMs, credit] of [
      // 2 slots at 0.01 ms a task: 100 ms of work is past the cap (4,096); 2 of the 4
      // granted at the welcome are still owed.
      [0.01, 4_096 - 2],
      // 2 slots at 500 ms a task: the window stays at 2 per slot.
      [500, 2],
    ] as const) {
      const s = setup();
      s.welcome();
      s.conn().handlers.onMessage(tasksFrame([1, 2]));
      const entry = s.exec.running.get(1);
      s.exec.running.clear();
      entry?.onDone({
        leases: [ids.lease(1), ids.lease(2)],
        outputs: [1, 2],
        failures: [],
        busyMs: [busyMs, busyMs],
      });
      expect(sentOfType(s.conn().sent, 'results')).toMatchObject([{ credit }]);
    }
  });

  test('tasks skipped because their leases ended in the queue send no result, and their credit is granted again', () => {
    const s = setup({ fixedWindow: 2 });
    s.welcome();
    s.conn().handlers.onMessage(tasksFrame([1, 2]));
    const entry = s.exec.running.get(1)!;
    s.exec.running.clear();
    entry.onDone({
      leases: [],
      outputs: [],
      failures: [],
      skipped: [ids.lease(1), ids.lease(2)],
    });
    expect(sentOfType(s.conn().sent, 'results')).toEqual([]);
    // Without this grant a worker whose queue outlived its leases waits forever.
    expect(sentOfType(s.conn().sent, 'ready')).toEqual([
      { type: 'ready', credit: 2 },
      { type: 'ready', credit: 2 },
    ]);
  });

  test('a result that finishes while others run is flushed by the timer', () => {
    const s = setup({ fixedWindow: 2 });
    s.welcome();
    s.conn().handlers.onMessage(tasksFrame([1, 2]));
    s.exec.finish(1, { ok: true, output: 1 });
    s.time.advance(5);
    expect(s.conn().sent.slice(1)[0]).toEqual({
      type: 'results',
      leases: [1],
      outputs: [1],
      busyMs: [0],
      credit: 1,
    });
  });

  test('acks add up: each counts the results it commits', () => {
    const s = setup({ fixedWindow: 4 });
    s.welcome();
    s.conn().handlers.onMessage(tasksFrame([1, 2, 3]));
    s.exec.finishMany([
      [1, { ok: true, output: 1 }],
      [2, { ok: true, output: 4 }],
      [3, { ok: false, error: 'x', kind: 'crash' }],
    ]);
    expect(sentOfType(s.conn().sent, 'results')).toEqual([
      {
        type: 'results',
        leases: [1, 2],
        outputs: [1, 4],
        busyMs: [0, 0],
        failures: [{ lease: 3, error: 'x', kind: 'crash' }],
        credit: 3,
      },
    ]);
    s.conn().handlers.onMessage(JSON.stringify({ type: 'ack', count: 2 }));
    expect(s.session.status.done).toBe(2);
    s.conn().handlers.onMessage(JSON.stringify({ type: 'ack', count: 1 }));
    expect(s.session.status.done).toBe(3);
    // The v1 ack (a list of leases) is malformed now: ignored, nothing counted.
    s.conn().handlers.onMessage(JSON.stringify({ type: 'ack', leases: [1] }));
    expect(s.session.status.done).toBe(3);
  });

  test('a frame of several jobs: one batch per group, each with its own job facts', () => {
    const s = setup({ fixedWindow: 8 });
    s.welcome();
    const other = 'b'.repeat(64);
    s.conn().handlers.onMessage(
      JSON.stringify({
        type: 'tasks',
        jobs: {
          '1': { module: MODULE, timeoutMs: 1_000, name: 'squares' },
          '2': { module: other, timeoutMs: 5, name: 'cubes' },
        },
        groups: [
          { job: '1', leases: [1], indexes: [0], attempts: [1], inputs: [0] },
          {
            job: '2',
            leases: [2, 3],
            indexes: [7, 8],
            attempts: [2, 1],
            inputs: ['a', null],
          },
        ],
      }),
    );
    expect(s.exec.batches).toEqual([
      {
        job: '1',
        leases: [1],
        indexes: [0],
        attempts: [1],
        inputs: [0],
        module: MODULE,
        timeoutMs: 1_000,
        name: 'squares',
      },
      {
        job: '2',
        leases: [2, 3],
        indexes: [7, 8],
        attempts: [2, 1],
        inputs: ['a', null],
        module: other,
        timeoutMs: 5,
        name: 'cubes',
      },
    ]);
    expect(s.session.status).toMatchObject({ jobName: 'cubes', inFlight: 3 });
  });

  test('more results than fit in one frame: several frames, failures first, credit on the last', () => {
    const s = setup({ fixedWindow: 3_000 });
    s.welcome();
    const leases = Array.from({ length: 2_500 }, (_, i) => i + 1);
    s.conn().handlers.onMessage(tasksFrame(leases));
    s.exec.finishMany(
      leases.map((lease) => [
        lease,
        lease % 100 === 0
          ? { ok: false, error: `e${lease}`, kind: 'error' }
          : { ok: true, output: lease * 2 },
      ]),
    );
    const frames = sentOfType(s.conn().sent, 'results') as {
      leases: number[];
      outputs: unknown[];
      failures?: { lease: number }[];
      credit?: number;
    }[];
    expect(frames.length).toBe(2);
    for (const frame of frames) {
      expect(frame.outputs).toHaveLength(frame.leases.length);
      expect(
        frame.leases.length + (frame.failures?.length ?? 0),
      ).toBeLessThanOrEqual(2_000);
      frame.leases.forEach((lease, i) =>
        expect(frame.outputs[i]).toBe(lease * 2),
      );
    }
    // The 25 failures ride in the first frame; every task is reported once.
    expect(frames[0]?.failures).toHaveLength(25);
    const reported = frames.flatMap((f) => [
      ...f.leases,
      ...(f.failures ?? []).map((x) => x.lease),
    ]);
    expect(reported.sort((a, b) => a - b)).toEqual(leases);
    expect(frames[0]?.credit).toBeUndefined();
    expect(frames[1]?.credit).toBeGreaterThan(0);
  });

  test('honours cancel', () => {
    const s = setup();
    s.welcome();
    s.conn().handlers.onMessage(tasksFrame([1, 2]));
    s.conn().handlers.onMessage(
      JSON.stringify({ type: 'cancel', leases: [2] }),
    );
    expect(s.exec.cancelled).toEqual([2]);
    expect([...s.exec.running.keys()]).toEqual([1]);
  });

  test('on a dropped connection: drops its tasks and reconnects with jittered backoff', () => {
    const s = setup();
    s.welcome();
    s.conn().handlers.onMessage(tasksFrame([1]));
    s.conn().handlers.onClose(1006, '');
    expect(s.exec.cancelled).toEqual([1]);
    expect(s.session.status.state).toBe('disconnected');
    expect(s.net.opened).toHaveLength(1);
    // First retry: ceiling 500 ms, jitter 0.5 -> 375 ms.
    s.time.advance(374);
    expect(s.net.opened).toHaveLength(1);
    s.time.advance(1);
    expect(s.net.opened).toHaveLength(2);
    // Failing again doubles the ceiling.
    s.conn().handlers.onClose(1006, '');
    s.time.advance(749);
    expect(s.net.opened).toHaveLength(2);
    s.time.advance(1);
    expect(s.net.opened).toHaveLength(3);
    // A welcome resets the backoff.
    s.welcome();
    s.conn().handlers.onClose(1001, 'master shutting down');
    s.time.advance(375);
    expect(s.net.opened).toHaveLength(4);
  });

  test('stop() closes with 1000 and never reconnects', () => {
    const s = setup();
    s.welcome();
    s.session.stop();
    expect(s.conn().closed).toEqual([1000, 'worker stopping']);
    s.time.advance(60_000);
    expect(s.net.opened).toHaveLength(1);
    expect(s.session.status.state).toBe('stopped');
  });

  test('ignores malformed frames from the master', () => {
    const logs: string[] = [];
    const time = fakeClock();
    const exec = fakeExecutor();
    const net = fakeConnections();
    runWorkerSession({
      connect: net.connect,
      executor: exec.executor,
      kind: 'browser',
      prove,
      clock: time.clock,
      onLog: (_l, m) => logs.push(m),
    });
    const conn = net.opened[0];
    const bad = [
      '{"type":"tasks","tasks":"nope"}',
      // The v1 shape: an object per task.
      JSON.stringify({
        type: 'tasks',
        jobs: { '1': { module: MODULE, timeoutMs: 1_000, name: 'x' } },
        tasks: [{ job: '1', index: 0, lease: 1, attempt: 1, input: 0 }],
      }),
      // Columns of unequal length.
      JSON.stringify({
        type: 'tasks',
        jobs: { '1': { module: MODULE, timeoutMs: 1_000, name: 'x' } },
        groups: [
          {
            job: '1',
            leases: [1, 2],
            indexes: [0, 1],
            attempts: [1],
            inputs: [0, 1],
          },
        ],
      }),
      // A group of a job the frame does not describe.
      tasksFrame([1]).replace('"job":"1"', '"job":"2"'),
    ];
    for (const frame of bad) conn?.handlers.onMessage(frame);
    expect(logs).toHaveLength(bad.length);
    for (const log of logs) expect(log).toMatch(/malformed/);
    expect(exec.running.size).toBe(0);
    expect(exec.batches).toEqual([]);
  });

  describe('progress', () => {
    /** Reports progress as an executor does (the session installs the listener). */
    const report = (
      s: ReturnType<typeof setup>,
      lease: number,
      fraction: number,
    ) => {
      const listener = s.exec.executor.onProgress;
      if (!listener) throw new Error('the session set no onProgress');
      listener(ids.lease(lease), fraction);
    };
    const progressFrames = (s: ReturnType<typeof setup>) =>
      sentOfType(s.conn().sent, 'progress');

    test('sends a progress frame at once, then at most one per lease per 250 ms with the latest fraction', () => {
      const s = setup();
      s.welcome();
      s.conn().handlers.onMessage(tasksFrame([1, 2]));
      report(s, 1, 0.1);
      expect(progressFrames(s)).toEqual([
        { type: 'progress', lease: 1, fraction: 0.1 },
      ]);
      s.time.advance(100);
      report(s, 1, 0.2);
      report(s, 1, 0.3);
      // Another lease has its own budget.
      report(s, 2, 0.5);
      expect(progressFrames(s)).toEqual([
        { type: 'progress', lease: 1, fraction: 0.1 },
        { type: 'progress', lease: 2, fraction: 0.5 },
      ]);
      s.time.advance(149);
      expect(progressFrames(s)).toHaveLength(2);
      s.time.advance(1);
      // 250 ms after the first frame: the coalesced latest fraction, once.
      expect(progressFrames(s)).toEqual([
        { type: 'progress', lease: 1, fraction: 0.1 },
        { type: 'progress', lease: 2, fraction: 0.5 },
        { type: 'progress', lease: 1, fraction: 0.3 },
      ]);
      s.time.advance(1_000);
      expect(progressFrames(s)).toHaveLength(3);
      report(s, 1, 0.9);
      expect(progressFrames(s).at(-1)).toEqual({
        type: 'progress',
        lease: 1,
        fraction: 0.9,
      });
      // Every frame is a valid protocol message; results and credit are untouched.
      for (const frame of progressFrames(s))
        expect(decodeWorkerMessage(JSON.stringify(frame)).ok).toBe(true);
      expect(sentOfType(s.conn().sent, 'results')).toEqual([]);
    });

    test('a burst of reports from many tasks stays bounded: one frame per lease per 250 ms', () => {
      const s = setup();
      s.welcome();
      const leases = Array.from({ length: 20 }, (_, i) => i + 1);
      s.conn().handlers.onMessage(tasksFrame(leases));
      for (let ms = 0; ms < 1_000; ms += 10) {
        for (const lease of leases) report(s, lease, ms / 1_000);
        s.time.advance(10);
      }
      s.time.advance(1_000);
      const frames = progressFrames(s) as { lease: number; fraction: number }[];
      for (const lease of leases) {
        const mine = frames.filter((f) => f.lease === lease);
        // 1 s of reports: at t = 0, 250, 500, 750 and the last one coalesced.
        expect(mine.length).toBeLessThanOrEqual(5);
        expect(mine.at(-1)?.fraction).toBe(0.99);
      }
    });

    test('nothing for a lease after its result or its cancel, nor after a disconnect', () => {
      const s = setup();
      s.welcome();
      s.conn().handlers.onMessage(tasksFrame([1, 2, 3]));
      report(s, 1, 0.1);
      report(s, 2, 0.1);
      report(s, 3, 0.1);
      s.time.advance(50);
      // Coalesced, not sent yet...
      report(s, 1, 0.5);
      report(s, 2, 0.5);
      report(s, 3, 0.5);
      // ...then task 1 ends and task 2 is cancelled before they could go out.
      s.exec.finish(1, { ok: true, output: 1 });
      s.conn().handlers.onMessage(
        JSON.stringify({ type: 'cancel', leases: [2] }),
      );
      s.time.advance(1_000);
      expect(progressFrames(s)).toEqual([
        { type: 'progress', lease: 1, fraction: 0.1 },
        { type: 'progress', lease: 2, fraction: 0.1 },
        { type: 'progress', lease: 3, fraction: 0.1 },
        { type: 'progress', lease: 3, fraction: 0.5 },
      ]);
      // A dropped connection: what was coalesced is dropped with the tasks.
      report(s, 3, 0.7);
      s.time.advance(100);
      report(s, 3, 0.8);
      const before = progressFrames(s).length;
      const old = s.conn();
      old.handlers.onClose(1006, '');
      s.time.advance(60_000);
      expect(sentOfType(old.sent, 'progress')).toHaveLength(before);
      expect(s.net.opened.length).toBeGreaterThan(1);
      expect(sentOfType(s.conn().sent, 'progress')).toEqual([]);
    });

    test('a fraction outside 0..1 is not sent', () => {
      const s = setup();
      s.welcome();
      s.conn().handlers.onMessage(tasksFrame([1]));
      report(s, 1, 1.5);
      report(s, 1, -0.1);
      report(s, 1, Number.NaN);
      expect(progressFrames(s)).toEqual([]);
    });
  });
});
