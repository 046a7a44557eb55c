import { describe, expect, test } from 'vitest';
import { ALLOWANCE_DEFAULTS } from '../../../server/master/scheduler/allowance.js';
import {
  assigned,
  credit,
  join,
  makeScheduler,
  ok,
  send,
  submit,
  tick,
} from '../../helpers/scheduler.js';

function real(options: { leaseGraceMs?: number } = {}) {
  return makeScheduler({ ...options, allowance: ALLOWANCE_DEFAULTS });
}

describe('allowance: what one worker may hold', () => {
  test('a greedy credit buys only two tasks per slot until results come back', () => {
    const s = real();
    join(s, 'greedy', 3);
    submit(s, 'j', 20_000);
    const got = assigned(credit(s, 'greedy', 100_000));
    expect(got).toHaveLength(6);
    // More credit does not buy more while nothing is answered.
    expect(assigned(credit(s, 'greedy', 100_000))).toEqual([]);
    expect(s.workerView('greedy')?.inFlight).toBe(6);
  });

  test('each result earns two more: the window triples per round trip', () => {
    const s = real();
    join(s, 'w', 1);
    submit(s, 'j', 1_000);
    let held = assigned(credit(s, 'w', 100_000));
    const sizes: number[] = [held.length];
    for (let round = 0; round < 4; round++) {
      const next = assigned(
        send(
          s,
          'w',
          held.map((t) => ok(t.lease)),
        ),
      );
      sizes.push(next.length);
      held = next;
    }
    expect(sizes).toEqual([2, 6, 18, 54, 162]);
  });

  test('the allowance stops at the cap per slot and overall', () => {
    const s = real();
    join(s, 'w', 1);
    submit(s, 'j', 100_000);
    let held = assigned(credit(s, 'w', 100_000));
    for (let round = 0; round < 20; round++) {
      held = assigned(
        send(
          s,
          'w',
          held.map((t) => ok(t.lease)),
        ),
      );
    }
    expect(held).toHaveLength(ALLOWANCE_DEFAULTS.maxPerSlot);
    const wide = real();
    join(wide, 'w', 64);
    submit(wide, 'j', 100_000);
    held = assigned(credit(wide, 'w', 100_000));
    for (let round = 0; round < 20; round++) {
      held = assigned(
        send(
          wide,
          'w',
          held.map((t) => ok(t.lease)),
        ),
      );
    }
    expect(held).toHaveLength(ALLOWANCE_DEFAULTS.maxHeld);
  });

  test('a greedy socket beside an honest worker: the honest one gets the rest', () => {
    const s = real();
    join(s, 'greedy', 1);
    join(s, 'honest', 1);
    submit(s, 'j', 100);
    expect(assigned(credit(s, 'greedy', 100_000))).toHaveLength(2);
    let held = assigned(credit(s, 'honest', 100_000));
    let done = 0;
    for (let round = 0; round < 20 && held.length > 0; round++) {
      done += held.length;
      held = assigned(
        send(
          s,
          'honest',
          held.map((t) => ok(t.lease)),
        ),
      );
    }
    expect(done).toBe(98);
    expect(s.jobView('j')?.counts).toMatchObject({ done: 98, running: 2 });
  });

  test('an expired lease halves the allowance and steers the task away', () => {
    const s = real({ leaseGraceMs: 0 });
    join(s, 'w', 1);
    submit(s, 'j', 1_000, { timeoutMs: 1_000 });
    let held = assigned(credit(s, 'w', 100_000));
    for (let round = 0; round < 3; round++) {
      held = assigned(
        send(
          s,
          'w',
          held.map((t) => ok(t.lease)),
        ),
      );
    }
    expect(held).toHaveLength(54);
    join(s, 'other', 1);
    // All 54 expire: the allowance halves once per expired lease, to its floor of 2.
    const after = tick(s, 1_000);
    const again = assigned(after, 'w');
    expect(again).toHaveLength(2);
    const expired = new Set(held.map((t) => t.index));
    // The tasks that expired on 'w' are not handed back to 'w' while another can run them.
    expect(again.filter((t) => expired.has(t.index))).toEqual([]);
    expect(
      assigned(credit(s, 'other', 100_000)).every((t) => expired.has(t.index)),
    ).toBe(true);
  });
});
