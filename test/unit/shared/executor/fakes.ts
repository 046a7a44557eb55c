/**
 * Fake threads and fake time for unit tests of the shared executor: a fake thread only
 * records what it is posted and answers when the test says so, so every interleaving
 * (a crash mid-batch, an overrun, a forged message) is scripted and deterministic.
 */
import type { Lease, TaskBatch } from '../../../../shared/protocol.js';
import {
  Status,
  type FromThread,
  type ThreadBatch,
  type ToThread,
} from '../../../../shared/task-runner.js';
import type {
  SpawnThread,
  ThreadEvents,
} from '../../../../shared/executor/index.js';
import type { Outcomes } from '../../../../shared/worker-session.js';
import { jobId, lease, type Unbranded } from '../../../helpers/ids.js';

/** A clock whose timers run, in time order, only when the test advances it. */
export function fakeClock(start = 1_000_000) {
  let now = start;
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

export type FakeClock = ReturnType<typeof fakeClock>;

export class FakeThread {
  readonly posted: ToThread[] = [];
  /** Tasks run messages gave it and it has not answered, in order. */
  readonly queue: { lease: Lease; input: unknown }[] = [];
  terminated = false;
  readonly running: Float64Array | null;
  readonly #events: ThreadEvents;

  constructor(events: ThreadEvents, slot: boolean) {
    this.#events = events;
    this.running = slot ? new Float64Array(2) : null;
    if (this.running) this.running[0] = -1;
  }

  receive(message: ToThread): void {
    if (this.terminated) throw new Error('posted to a terminated thread');
    this.posted.push(message);
    if (message.type === 'run')
      message.leases.forEach((lease, i) =>
        this.queue.push({ lease, input: message.inputs[i] }),
      );
  }

  get runs(): ThreadBatch[] {
    return this.posted.flatMap((m) => (m.type === 'run' ? [m] : []));
  }

  /** Writes the shared slot as the task runner does when a task starts. */
  start(lease: number, at: number): void {
    if (!this.running) throw new Error('no slot');
    this.running[1] = at;
    this.running[0] = lease;
  }

  /** Answers its next `count` tasks (all by default) with `output(input)`. */
  answer(
    count = this.queue.length,
    output: (input: unknown) => unknown = (x) => (x as number) * 2,
  ): void {
    const tasks = this.queue.splice(0, count);
    if (this.running) this.running[0] = -1;
    this.send({
      type: 'outcomes',
      leases: tasks.map((t) => t.lease),
      status: tasks.map(() => Status.ok),
      values: tasks.map((t) => output(t.input)),
    });
  }

  /** Delivers any message as if the thread (or task code on its port) posted it. */
  send(message: Unbranded<FromThread>): void {
    if (!this.terminated) this.#events.onMessage(message as FromThread);
  }

  die(reason: string): void {
    this.#events.onError(reason);
  }
}

/** A spawner of fake threads; `threads` lists every one it started, in order. */
export function fakeSpawner(slot = true) {
  const threads: FakeThread[] = [];
  const spawn: SpawnThread = (events) => {
    const thread = new FakeThread(events, slot);
    threads.push(thread);
    return {
      post: (message) => thread.receive(message),
      terminate: () => {
        thread.terminated = true;
      },
      running: thread.running,
    };
  };
  const live = () => threads.filter((t) => !t.terminated);
  return { spawn, threads, live };
}

/** A batch of `count` tasks of one job: leases from `firstLease`, inputs 0.. */
export function tasks(
  count: number,
  firstLease = 1,
  timeoutMs = 5_000,
  module = 'a'.repeat(64),
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

/** How one lease ended. */
export type Ending =
  | { ok: true; output: unknown }
  | { ok: false; error: string; kind: 'error' | 'crash' }
  | { ok: 'skipped' };

/** Collects every ending per lease (a lease must end at most once). */
export function endings() {
  const done = new Map<number, Ending[]>();
  const add = (lease: number, ending: Ending) =>
    done.set(lease, [...(done.get(lease) ?? []), ending]);
  const onDone = (outcomes: Outcomes) => {
    if (outcomes.outputs.length !== outcomes.leases.length)
      throw new Error('outputs and leases differ in length');
    outcomes.leases.forEach((lease, i) =>
      add(lease, { ok: true, output: outcomes.outputs[i] }),
    );
    for (const { lease, error, kind } of outcomes.failures)
      add(lease, { ok: false, error, kind });
    for (const lease of outcomes.skipped ?? []) add(lease, { ok: 'skipped' });
  };
  return { done, onDone };
}
