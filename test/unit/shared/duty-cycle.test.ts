import { describe, expect, test } from 'vitest';
import {
  DutyCycle,
  MAX_BANKED_MS,
  MIN_REST_MS,
  clampShare,
  restAfter,
} from '../../../shared/duty-cycle.js';

describe('restAfter', () => {
  test('rests t * (100 / share - 1) after running t', () => {
    expect(restAfter(100, 50)).toBe(100);
    expect(restAfter(100, 25)).toBe(300);
    expect(restAfter(300, 75)).toBeCloseTo(100);
    expect(restAfter(100, 100)).toBe(0);
  });

  test('a share out of 1..100 is clamped', () => {
    expect(clampShare(0)).toBe(1);
    expect(clampShare(-5)).toBe(1);
    expect(clampShare(250)).toBe(100);
    expect(clampShare(Number.NaN)).toBe(100);
    expect(clampShare(49.6)).toBe(50);
    expect(restAfter(10, 0)).toBe(990);
  });
});

describe('DutyCycle', () => {
  test('at 100% no rest is ever due', () => {
    const duty = new DutyCycle(100);
    duty.begin(0);
    expect(duty.restDue(1_000_000)).toBe(0);
  });

  test('at 50% a stretch of work owes as much rest', () => {
    const duty = new DutyCycle(50);
    duty.begin(1_000);
    expect(duty.restDue(1_040)).toBe(40);
    duty.end(1_040);
    // Resting 40 ms pays it off.
    duty.begin(1_080);
    expect(duty.restDue(1_080)).toBe(0);
  });

  test('rest below the minimum is carried, not slept', () => {
    const duty = new DutyCycle(50);
    duty.begin(0);
    expect(duty.restDue(MIN_REST_MS - 1)).toBe(0);
    expect(duty.restDue(MIN_REST_MS)).toBe(MIN_REST_MS);
  });

  test('tiny tasks add up: many short stretches owe one rest', () => {
    const duty = new DutyCycle(25);
    let now = 0;
    for (let i = 0; i < 10; i++) {
      duty.begin(now);
      now += 1;
      expect(duty.restDue(now)).toBe(i >= 3 ? 3 * (i + 1) : 0);
      duty.end(now);
    }
  });

  test('idle time counts as rest, but only a little is banked', () => {
    const duty = new DutyCycle(50);
    duty.begin(0);
    duty.end(0);
    // Idle for a minute: the next stretch may run only MAX_BANKED_MS longer.
    duty.begin(60_000);
    expect(duty.restDue(60_000 + 100)).toBe(100 - MAX_BANKED_MS);
  });

  test('a late timer is not rested twice: the oversleep is banked', () => {
    const duty = new DutyCycle(50);
    duty.begin(0);
    expect(duty.restDue(20)).toBe(20);
    duty.end(20);
    duty.begin(45); // slept 25 for 20 owed
    expect(duty.restDue(60)).toBe(10);
  });

  test('over a long run the share is what was asked', () => {
    for (const share of [25, 50, 75]) {
      const duty = new DutyCycle(share);
      let now = 0;
      let busy = 0;
      duty.begin(now);
      while (now < 100_000) {
        now += 3; // a 3 ms task
        busy += 3;
        const rest = duty.restDue(now);
        if (rest > 0) {
          duty.end(now);
          now += rest + 1; // timers run a little late
          duty.begin(now);
        }
      }
      expect(busy / now).toBeGreaterThan(share / 100 - 0.03);
      expect(busy / now).toBeLessThan(share / 100 + 0.01);
    }
  });

  test('a change of share applies from then on', () => {
    const duty = new DutyCycle(50);
    duty.begin(0);
    duty.end(10); // owes 10
    duty.setShare(100, 10);
    duty.begin(10);
    expect(duty.restDue(1_000)).toBe(0);
    duty.setShare(25, 1_000);
    expect(duty.share).toBe(25);
    // The stretch from 10 to 1 000 ran at 100%: only what follows owes rest.
    expect(duty.restDue(1_004)).toBe(12);
  });
});
