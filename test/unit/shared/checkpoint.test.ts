/**
 * The worker's half of checkpoints, in pure pieces: what `ctx.checkpoint` accepts, the
 * one-a-second throttle that keeps the latest state per lease, `resume` entries from the
 * wire to each task's `ctx.resumeFrom`, and the runner posting checkpoints.
 */
import { describe, expect, test } from 'vitest';
import { unbranded } from '../../helpers/ids.js';
import {
  MAX_CHECKPOINT_BYTES,
  checkpointState,
} from '../../../shared/runner/checkpoint.js';
import { runMessage, subSlice } from '../../../shared/executor/slice.js';
import {
  decodeWorkerBoundMessage,
  decodeWorkerMessage,
  expandTasks,
  type Tasks,
} from '../../../shared/protocol.js';
import {
  CHECKPOINT_EVERY_MS,
  ProgressThrottle,
} from '../../../shared/session/progress.js';
import {
  createTaskRunner,
  type FromThread,
  type TaskContext,
} from '../../../shared/task-runner.js';

const MODULE = 'a'.repeat(64);

function fakeTimers() {
  let now = 0;
  const timers: { at: number; fn: () => void; id: number }[] = [];
  let ids = 0;
  return {
    clock: {
      now: () => now,
      setTimeout: (fn: () => void, ms: number) => {
        timers.push({ at: now + ms, fn, id: ++ids });
        return ids;
      },
      clearTimeout: (id: unknown) => {
        const at = timers.findIndex((t) => t.id === id);
        if (at >= 0) timers.splice(at, 1);
      },
    },
    advance(ms: number) {
      now += ms;
      timers.sort((a, b) => a.at - b.at);
      while (timers[0] && timers[0].at <= now) timers.shift()?.fn();
    },
  };
}

describe('ctx.checkpoint accepts JSON values and bytes', () => {
  test('JSON values pass as they are; an ArrayBuffer becomes a Uint8Array', () => {
    const state = { step: 3, sums: [1, 2], name: 'x' };
    expect(checkpointState(state)).toBe(state);
    expect(checkpointState(null)).toBeNull();
    const buffer = Uint8Array.of(1, 2, 3).buffer;
    expect(checkpointState(buffer)).toEqual(Uint8Array.of(1, 2, 3));
    const bytes = Uint8Array.of(4);
    expect(checkpointState({ bytes })).toEqual({ bytes });
  });

  test('anything else throws a TypeError at the task', () => {
    const cycle: Record<string, unknown> = {};
    cycle.self = cycle;
    for (const bad of [undefined, () => 1, 10n, cycle])
      expect(() => checkpointState(bad)).toThrow(TypeError);
  });

  test('a state over the limit throws a RangeError', () => {
    expect(() =>
      checkpointState(new Uint8Array(MAX_CHECKPOINT_BYTES + 1)),
    ).toThrow(RangeError);
    expect(() => checkpointState('x'.repeat(MAX_CHECKPOINT_BYTES))).toThrow(
      RangeError,
    );
    // The limit counts the state as it travels: bytes plus a small header.
    const under = new Uint8Array(MAX_CHECKPOINT_BYTES - 100);
    expect(checkpointState(under)).toBe(under);
  });
});

describe('the worker sends at most one checkpoint a second per task, the latest', () => {
  test('the first at once, later ones coalesced into the latest, sent when due', () => {
    const t = fakeTimers();
    const sent: [number, unknown][] = [];
    const throttle = unbranded(
      new ProgressThrottle<unknown>(
        t.clock,
        (lease, state) => sent.push([lease, state]),
        CHECKPOINT_EVERY_MS,
      ),
    );
    throttle.report(1, 'step 1');
    for (let step = 2; step <= 9; step++) {
      t.advance(100);
      throttle.report(1, `step ${step}`);
    }
    throttle.report(2, 'other');
    expect(sent).toEqual([
      [1, 'step 1'],
      [2, 'other'],
    ]);
    t.advance(199);
    expect(sent).toHaveLength(2);
    t.advance(1);
    expect(sent).toEqual([
      [1, 'step 1'],
      [2, 'other'],
      [1, 'step 9'],
    ]);
    t.advance(10_000);
    expect(sent).toHaveLength(3);
  });

  test('a state not yet sent is dropped when its task ends', () => {
    const t = fakeTimers();
    const sent: unknown[] = [];
    const throttle = unbranded(
      new ProgressThrottle<unknown>(
        t.clock,
        (_lease, state) => sent.push(state),
        CHECKPOINT_EVERY_MS,
      ),
    );
    throttle.report(1, 'a');
    t.advance(10);
    throttle.report(1, 'b');
    throttle.forget([1]);
    t.advance(5_000);
    expect(sent).toEqual(['a']);
  });
});

describe('the checkpoint frame and the resume column', () => {
  test('a checkpoint frame is a valid worker message; one without state is not', () => {
    expect(
      decodeWorkerMessage('{"type":"checkpoint","lease":7,"state":{"i":3}}'),
    ).toEqual({
      ok: true,
      value: { type: 'checkpoint', lease: 7, state: { i: 3 } },
    });
    expect(decodeWorkerMessage('{"type":"checkpoint","lease":7}').ok).toBe(
      false,
    );
    expect(
      decodeWorkerMessage('{"type":"checkpoint","lease":-1,"state":1}').ok,
    ).toBe(false);
  });

  const frame = (resume: unknown): string =>
    JSON.stringify({
      type: 'tasks',
      jobs: { j: { module: MODULE, timeoutMs: 1000, name: 'n' } },
      groups: [
        {
          job: 'j',
          leases: [10, 11, 12],
          indexes: [0, 1, 2],
          attempts: [2, 1, 3],
          inputs: ['a', 'b', 'c'],
          resume,
        },
      ],
    });

  test('resume entries become each task’s state to resume from', () => {
    const decoded = decodeWorkerBoundMessage(
      frame([
        { at: 0, state: { step: 5 } },
        { at: 2, state: null },
      ]),
    );
    if (!decoded.ok) throw new Error(decoded.error);
    const [batch] = expandTasks(decoded.value as Tasks);
    expect(batch?.resumes).toEqual([{ step: 5 }, undefined, null]);
    expect(batch).not.toHaveProperty('resume');
  });

  test('a resume entry past its group, or an empty list, makes the frame invalid', () => {
    expect(decodeWorkerBoundMessage(frame([{ at: 3, state: 1 }])).ok).toBe(
      false,
    );
    expect(decodeWorkerBoundMessage(frame([])).ok).toBe(false);
  });

  test('slices of a batch keep each task’s state with it', () => {
    const decoded = decodeWorkerBoundMessage(frame([{ at: 2, state: 'c!' }]));
    if (!decoded.ok) throw new Error(decoded.error);
    const [batch] = expandTasks(decoded.value as Tasks);
    const slice = {
      batch: batch!,
      from: 1,
      to: 3,
      deadline: 5,
      onDone: () => undefined,
    };
    expect(runMessage(slice)).toMatchObject({
      leases: [11, 12],
      resumes: [undefined, 'c!'],
    });
    const kept = subSlice(slice, (lease) => lease === 12);
    expect(kept && runMessage(kept)).toMatchObject({
      leases: [12],
      resumes: ['c!'],
    });
  });
});

describe('the runner', () => {
  test('gives each task its resumeFrom and posts its checkpoints', async () => {
    const posted: FromThread[] = [];
    const seen: unknown[] = [];
    const task = (input: unknown, ctx: TaskContext) => {
      seen.push(ctx.resumeFrom);
      const { checkpoint } = ctx;
      checkpoint({ at: input });
      return input;
    };
    let done: () => void = () => undefined;
    const finished = new Promise<void>((resolve) => (done = resolve));
    const runner = unbranded(
      createTaskRunner({
        importModule: () => Promise.resolve({ default: task }),
        post: (message) => {
          posted.push(message);
          if (message.type === 'outcomes') done();
        },
        now: () => 0,
      }),
    );
    runner.handle({
      type: 'run',
      job: 'j',
      module: MODULE,
      leases: [1, 2],
      indexes: [0, 1],
      attempts: [1, 2],
      inputs: ['x', 'y'],
      deadline: 10_000,
      resumes: [undefined, { step: 4 }],
    });
    await finished;
    expect(seen).toEqual([undefined, { step: 4 }]);
    expect(posted.filter((m) => m.type === 'checkpoint')).toEqual([
      { type: 'checkpoint', lease: 1, state: { at: 'x' } },
      { type: 'checkpoint', lease: 2, state: { at: 'y' } },
    ]);
  });

  test('a bad state fails the task with the reason', async () => {
    const posted: FromThread[] = [];
    let done: () => void = () => undefined;
    const finished = new Promise<void>((resolve) => (done = resolve));
    const runner = unbranded(
      createTaskRunner({
        importModule: () =>
          Promise.resolve({
            default: (_: unknown, ctx: TaskContext) => ctx.checkpoint(10n),
          }),
        post: (message) => {
          posted.push(message);
          if (message.type === 'outcomes') done();
        },
        now: () => 0,
      }),
    );
    runner.handle({
      type: 'run',
      job: 'j',
      module: MODULE,
      leases: [1],
      indexes: [0],
      attempts: [1],
      inputs: [0],
      deadline: 10_000,
    });
    await finished;
    const outcome = posted.find((m) => m.type === 'outcomes');
    expect(outcome).toMatchObject({ leases: [1], status: [1] });
    expect(String((outcome as { values: unknown[] }).values[0])).toMatch(
      /ctx.checkpoint: the state is not a JSON value or bytes/,
    );
  });
});
