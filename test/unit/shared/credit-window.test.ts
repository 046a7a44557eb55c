/**
 * The worker's prefetch window: a fresh one sizes itself from the busy times of its
 * first tasks (no dozen round trips of doubling), slow tasks keep a small one, and the
 * measured rate takes over once it is known.
 */
import { describe, expect, test } from 'vitest';
import { CreditWindow } from '../../../shared/session/credit-window.js';

const fresh = (fixedWindow?: number) =>
  new CreditWindow({
    slots: 2,
    targetQueueMs: 100,
    maxWindow: 4_096,
    fixedWindow,
  });

/** The window, read as the credit a session with nothing held would grant. */
const windowOf = (w: CreditWindow) => {
  w.creditOut = 0;
  return w.due(0);
};

describe('credit window', () => {
  test('starts at two tasks per slot', () => {
    expect(windowOf(fresh())).toBe(4);
  });

  test('tiny first tasks open the window at once, up to its cap', () => {
    const w = fresh();
    expect(w.wantsBusy).toBe(true);
    w.busy(2, 0.004);
    expect(windowOf(w)).toBe(4_096);
  });

  test('the busy estimate is per slot: 0.1 ms tasks on 2 slots want 100 ms of them', () => {
    const w = fresh();
    w.busy(4, 0.4);
    // 2 slots / 0.1 ms * 100 ms + 2 slots
    expect(windowOf(w)).toBe(2_002);
  });

  test('slow first tasks leave the window small', () => {
    const w = fresh();
    w.busy(2, 2_000);
    expect(windowOf(w)).toBe(4);
  });

  test('a fixed window ignores busy times', () => {
    const w = fresh(3);
    expect(w.wantsBusy).toBe(false);
    w.busy(2, 0.002);
    expect(windowOf(w)).toBe(3);
  });

  test('nonsense busy times change nothing', () => {
    const w = fresh();
    w.busy(0, 0);
    w.busy(2, Number.NaN);
    w.busy(2, -1);
    expect(windowOf(w)).toBe(4);
  });

  test('once the rate is measured, busy times no longer size the window', () => {
    const w = fresh();
    w.received(100, 1);
    // 100 tasks in 100 ms: 1 per ms, so 100 ms of queue is 100 tasks plus the slots.
    w.completed(100, 101, 10);
    expect(w.wantsBusy).toBe(false);
    expect(windowOf(w)).toBe(102);
    w.busy(100, 0.1);
    expect(windowOf(w)).toBe(102);
  });

  test('the first rate waits for 8 tasks per slot: until then busy times still count', () => {
    const w = fresh();
    w.received(2, 1);
    // Two tasks in 60 ms (their module was being fetched): no rate from that.
    w.completed(2, 61, 0);
    expect(w.wantsBusy).toBe(true);
    w.busy(4, 0.02);
    expect(windowOf(w)).toBe(4_096);
  });

  test('a slow rate measured while few tasks are held does not shrink the window', () => {
    const w = fresh();
    w.busy(4, 0.02);
    w.received(16, 1);
    // 16 tasks in 100 ms, while the master sent them a few at a time: 0.16 per ms.
    w.completed(16, 101, 4);
    expect(w.wantsBusy).toBe(false);
    expect(windowOf(w)).toBe(4_096);
  });

  test('a window sitting on slow tasks shrinks to what the rate wants', () => {
    const w = fresh();
    w.busy(4, 0.02);
    w.received(1_000, 1);
    // 16 done in 100 ms with 984 still held: 18 wanted, far less than held.
    w.completed(16, 101, 984);
    expect(windowOf(w)).toBe(18);
  });

  test('a window that ran dry with nothing owed doubles', () => {
    const w = fresh();
    w.creditOut = 0;
    w.completed(4, 1, 0);
    expect(windowOf(w)).toBe(8);
  });
});
