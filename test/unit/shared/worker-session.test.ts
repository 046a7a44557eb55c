/** The shared worker loop with a fake transport, executor and clock: plain calls, no sockets. */
import { describe, expect, test } from 'vitest';
import type { TaskAssignment, WireTask } from '../../../shared/protocol.js';
import {
  runWorkerSession,
  type Clock,
  type ExecOutcome,
  type Executor,
  type TransportHandlers,
} from '../../../shared/worker-session.js';

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

function fakeExecutor(slots = 2) {
  const running = new Map<
    number,
    {
      task: TaskAssignment;
      onDone: (t: TaskAssignment, o: ExecOutcome) => void;
    }
  >();
  const cancelled: number[] = [];
  const executor: Executor = {
    slots,
    submit: (tasks, onDone) => {
      for (const task of tasks) running.set(task.lease, { task, onDone });
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
  const finish = (lease: number, outcome: ExecOutcome) => {
    const entry = running.get(lease);
    if (!entry) throw new Error(`lease ${lease} not running`);
    running.delete(lease);
    entry.onDone(entry.task, outcome);
  };
  return { executor, running, cancelled, finish };
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
const task = (lease: number, index = lease): WireTask => ({
  job: '1',
  index,
  lease,
  attempt: 1,
  input: index,
});
/** A `tasks` frame as the master sends it. */
const tasksFrame = (tasks: WireTask[], name = 'squares') =>
  JSON.stringify({
    type: 'tasks',
    jobs: { '1': { module: MODULE, timeoutMs: 1_000, name } },
    tasks,
  });

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
  test('says hello, then grants its window as credit', () => {
    const s = setup();
    s.welcome();
    expect(s.conn().sent).toEqual([
      { type: 'hello', protocol: 1, kind: 'node', slots: 2, name: 'test' },
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
    s.conn().handlers.onMessage(tasksFrame([task(1), task(2)], 'squares'));
    expect(s.exec.running.size).toBe(2);
    // The executor gets each task with its job's module and timeout filled in.
    expect(s.exec.running.get(1)?.task).toEqual({
      ...task(1),
      module: MODULE,
      timeoutMs: 1_000,
    });
    expect(s.session.status.jobName).toBe('squares');
    s.exec.finish(1, { ok: true, output: 1 });
    // Not idle yet: the result waits a moment for company.
    expect(
      s.conn().sent.filter((m) => (m as { type: string }).type === 'results'),
    ).toEqual([]);
    s.exec.finish(2, { ok: false, error: 'boom', kind: 'error' });
    const sent = s.conn().sent.slice(2);
    // One frame: the results, with the credit that tops the window back up.
    expect(sent).toEqual([
      {
        type: 'results',
        results: [
          { lease: 1, ok: true, output: 1 },
          { lease: 2, ok: false, error: 'boom', kind: 'error' },
        ],
        credit: 2,
      },
    ]);
    s.conn().handlers.onMessage(
      JSON.stringify({ type: 'ack', leases: [1, 2] }),
    );
    expect(s.session.status.done).toBe(2);
  });

  test('a result that finishes while others run is flushed by the timer', () => {
    const s = setup({ fixedWindow: 2 });
    s.welcome();
    s.conn().handlers.onMessage(tasksFrame([task(1), task(2)]));
    s.exec.finish(1, { ok: true, output: 1 });
    s.time.advance(5);
    expect(s.conn().sent.slice(2)[0]).toEqual({
      type: 'results',
      results: [{ lease: 1, ok: true, output: 1 }],
      credit: 1,
    });
  });

  test('honours cancel', () => {
    const s = setup();
    s.welcome();
    s.conn().handlers.onMessage(tasksFrame([task(1), task(2)]));
    s.conn().handlers.onMessage(
      JSON.stringify({ type: 'cancel', leases: [2] }),
    );
    expect(s.exec.cancelled).toEqual([2]);
    expect([...s.exec.running.keys()]).toEqual([1]);
  });

  test('on a dropped connection: drops its tasks and reconnects with jittered backoff', () => {
    const s = setup();
    s.welcome();
    s.conn().handlers.onMessage(tasksFrame([task(1)]));
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
      clock: time.clock,
      onLog: (_l, m) => logs.push(m),
    });
    net.opened[0]?.handlers.onMessage('{"type":"tasks","tasks":"nope"}');
    expect(logs[0]).toMatch(/malformed/);
    expect(exec.running.size).toBe(0);
  });
});
