/** Pause, resume and a change of threads in the shared worker loop: fake transport and executor. */
import { describe, expect, test } from 'vitest';
import type { TaskBatch } from '../../../shared/protocol.js';
import {
  runWorkerSession,
  type Clock,
  type Executor,
  type Outcomes,
  type TransportHandlers,
} from '../../../shared/worker-session.js';
import { lease as toLease } from '../../helpers/ids.js';

const clock: Clock = {
  now: () => 1_000,
  setTimeout: () => 0, // flushes happen when idle, which is what these tests reach
  clearTimeout: () => undefined,
  random: () => 0.5,
};

/** An executor whose first `slots` tasks run; `pause` drops the rest, as the real one does. */
function fakeExecutor() {
  const held: { lease: number; onDone: (o: Outcomes) => void }[] = [];
  const calls: string[] = [];
  let slots = 2;
  const executor: Executor = {
    get slots() {
      return slots;
    },
    submit: (batch: TaskBatch, onDone) => {
      for (const lease of batch.leases) held.push({ lease, onDone });
    },
    cancel: () => undefined,
    cancelAll: () => void held.splice(0),
    get pending() {
      return held.length;
    },
    pause: () => {
      calls.push('pause');
      held.splice(slots); // the ones not started
    },
    resume: () => void calls.push('resume'),
    resize: (threads) => {
      calls.push(`resize ${threads}`);
      slots = threads;
    },
  };
  /** The running task `lease` finishes with output `lease * 10`. */
  const finish = (lease: number) => {
    const at = held.findIndex((t) => t.lease === lease);
    const [task] = held.splice(at, 1);
    task?.onDone({
      leases: [toLease(lease)],
      outputs: [lease * 10],
      failures: [],
    });
  };
  return { executor, held, calls, finish };
}

function setup() {
  const exec = fakeExecutor();
  const opened: { handlers: TransportHandlers; sent: unknown[] }[] = [];
  const closes: [number, string][] = [];
  const connect = (handlers: TransportHandlers) => {
    const conn = { handlers, sent: [] as unknown[] };
    opened.push(conn);
    return {
      send: (frame: string | Uint8Array) =>
        conn.sent.push(JSON.parse(frame as string)),
      close: (code: number, reason: string) => {
        closes.push([code, reason]);
        handlers.onClose(code, reason);
      },
    };
  };
  const session = runWorkerSession({
    connect,
    executor: exec.executor,
    kind: 'browser',
    prove: () => Promise.resolve({ publicKey: 'pk', signature: 's' }),
    clock,
  });
  const conn = () => opened[opened.length - 1] as (typeof opened)[number];
  const welcome = () =>
    conn().handlers.onMessage(
      JSON.stringify({
        type: 'welcome',
        workerId: 'w1',
        heartbeatMs: 1000,
        limits: { maxPayloadBytes: 1e6, maxBatch: 1e4, maxCredit: 1e5 },
      }),
    );
  const tasks = (leases: number[]) =>
    conn().handlers.onMessage(
      JSON.stringify({
        type: 'tasks',
        jobs: { '1': { module: 'a'.repeat(64), timeoutMs: 1_000, name: 'j' } },
        groups: [
          {
            job: '1',
            leases,
            indexes: leases,
            attempts: leases.map(() => 1),
            inputs: leases,
          },
        ],
      }),
    );
  const ack = (count: number) =>
    conn().handlers.onMessage(JSON.stringify({ type: 'ack', count }));
  const sentOf = (type: string) =>
    conn().sent.filter((m) => (m as { type: string }).type === type);
  return { exec, session, opened, closes, conn, welcome, tasks, ack, sentOf };
}

describe('pausing a worker session', () => {
  test('sends what finishes, drops what did not start, then closes to release it', () => {
    const s = setup();
    s.welcome();
    s.tasks([1, 2, 3, 4]);
    s.session.pause();
    expect(s.exec.calls).toEqual(['pause']);
    // Tasks 3 and 4 never started; 1 and 2 still run: no close yet.
    expect(s.exec.held.map((t) => t.lease)).toEqual([1, 2]);
    expect(s.closes).toEqual([]);
    s.exec.finish(1);
    s.exec.finish(2);
    // Both results went out, with no new credit, before the close.
    expect(s.sentOf('results')).toEqual([
      { type: 'results', leases: [1, 2], outputs: [10, 20], busyMs: [0, 0] },
    ]);
    const readyBefore = s.sentOf('ready').length;
    // It waits for the master to commit them, so that its count is the master's.
    expect(s.closes).toEqual([]);
    s.ack(2);
    expect(s.session.status.done).toBe(2);
    expect(s.closes).toEqual([[1000, 'paused']]);
    expect(s.session.status.state).toBe('paused');
    expect(s.sentOf('ready')).toHaveLength(readyBefore);
    // Paused: no reconnecting.
    expect(s.opened).toHaveLength(1);
  });

  test('tasks that arrive while pausing are not started', () => {
    const s = setup();
    s.welcome();
    s.tasks([1]);
    s.session.pause();
    s.tasks([7, 8]);
    expect(s.exec.held.map((t) => t.lease)).toEqual([1]);
    s.exec.finish(1);
    s.ack(1);
    expect(s.closes).toEqual([[1000, 'paused']]);
  });

  test('resume connects again and takes tasks', () => {
    const s = setup();
    s.welcome();
    s.session.pause();
    expect(s.session.status.state).toBe('paused');
    s.session.resume();
    expect(s.exec.calls).toEqual(['pause', 'resume']);
    expect(s.opened).toHaveLength(2);
    s.welcome();
    expect(s.sentOf('ready')).toEqual([{ type: 'ready', credit: 4 }]);
  });

  test('a resume before the pause has closed still closes (to release), then reconnects', () => {
    const s = setup();
    s.welcome();
    s.tasks([1, 2, 3]);
    s.session.pause();
    s.session.resume();
    expect(s.opened).toHaveLength(1);
    s.exec.finish(1);
    expect(s.closes).toEqual([]);
    s.exec.finish(2);
    s.ack(2);
    expect(s.closes).toEqual([[1000, 'paused']]);
    expect(s.opened).toHaveLength(2);
  });

  test('a pause before the welcome closes at once; stop while paused stays stopped', () => {
    const s = setup();
    s.session.pause();
    expect(s.closes).toEqual([[1000, 'paused']]);
    expect(s.session.status.state).toBe('paused');
    s.session.stop();
    expect(s.session.status.state).toBe('stopped');
    s.session.resume();
    expect(s.opened).toHaveLength(1);
  });
});

describe('changing threads', () => {
  test('resizes the pool and grants the larger window without reconnecting', () => {
    const s = setup();
    s.welcome();
    expect(s.sentOf('ready')).toEqual([{ type: 'ready', credit: 4 }]);
    s.session.setThreads(4);
    expect(s.exec.calls).toEqual(['resize 4']);
    expect(s.sentOf('ready')).toEqual([
      { type: 'ready', credit: 4 },
      { type: 'ready', credit: 4 },
    ]);
    expect(s.opened).toHaveLength(1);
  });
});
