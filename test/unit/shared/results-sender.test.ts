/**
 * When a worker sends its results: soon when the frame would carry credit the worker
 * needs, later while its window is still well stocked (fewer, fuller frames).
 */
import { describe, expect, test } from 'vitest';
import { CreditWindow } from '../../../shared/session/credit-window.js';
import type { Clock } from '../../../shared/session/ports.js';
import {
  FLUSH_DELAY_MS,
  HOLD_DELAY_MS,
  ResultsSender,
} from '../../../shared/session/results-sender.js';
import type { WorkerMessage } from '../../../shared/protocol.js';
import * as ids from '../../helpers/ids.js';

function fakeClock() {
  let now = 0;
  let nextId = 0;
  const timers = new Map<number, { at: number; fn: () => void }>();
  const clock: Clock = {
    now: () => now,
    setTimeout: (fn, ms) => {
      timers.set(++nextId, { at: now + ms, fn });
      return nextId;
    },
    clearTimeout: (handle) => {
      timers.delete(handle as number);
    },
    random: () => 0.5,
  };
  const advance = (ms: number) => {
    now += ms;
    for (const [id, timer] of [...timers].sort((a, b) => a[1].at - b[1].at)) {
      if (timer.at > now) break;
      timers.delete(id);
      timer.fn();
    }
  };
  return { clock, advance, timers };
}

function setup() {
  const time = fakeClock();
  const sent: WorkerMessage[] = [];
  const sender = new ResultsSender(time.clock, (m) => sent.push(m));
  let flushes = 0;
  const flush = () => {
    flushes++;
    sender.cancelTimer();
    sender.sendAll(() => 0);
  };
  const add = (lease: number) =>
    sender.add({ leases: [ids.lease(lease)], outputs: [lease], failures: [] });
  return { time, sent, sender, flush, add, flushes: () => flushes };
}

describe('results sender', () => {
  test('results wait longer while no credit is due, and go together', () => {
    const s = setup();
    s.add(1);
    s.sender.flushSoon(s.flush, false);
    s.time.advance(FLUSH_DELAY_MS + 1);
    expect(s.sent).toEqual([]);
    s.add(2);
    s.sender.flushSoon(s.flush, false);
    s.time.advance(HOLD_DELAY_MS - FLUSH_DELAY_MS - 1);
    expect(s.sent).toHaveLength(1);
    expect(s.sent[0]).toMatchObject({ type: 'results', leases: [1, 2] });
    expect(s.flushes()).toBe(1);
  });

  test('credit becoming due brings a waiting flush forward', () => {
    const s = setup();
    s.add(1);
    s.sender.flushSoon(s.flush, false);
    s.time.advance(2);
    s.add(2);
    s.sender.flushSoon(s.flush, true);
    s.time.advance(FLUSH_DELAY_MS);
    expect(s.sent).toHaveLength(1);
    // The timer it replaced does not fire again.
    s.time.advance(HOLD_DELAY_MS);
    expect(s.flushes()).toBe(1);
    expect(s.time.timers.size).toBe(0);
  });

  test('a later, longer request keeps the sooner flush', () => {
    const s = setup();
    s.add(1);
    s.sender.flushSoon(s.flush, true);
    s.add(2);
    s.sender.flushSoon(s.flush, false);
    s.time.advance(FLUSH_DELAY_MS);
    expect(s.sent).toHaveLength(1);
    expect(s.flushes()).toBe(1);
  });
});

describe('credit window: wants() foretells due()', () => {
  test('no credit while the window is well stocked; due once a quarter is free', () => {
    const window = new CreditWindow({
      slots: 2,
      targetQueueMs: 100,
      maxWindow: 100,
      fixedWindow: 8,
    });
    expect(window.due(0)).toBe(8);
    window.received(8, 1);
    // 7 of 8 still held: one free slot is less than a quarter of the window.
    expect(window.wants(7)).toBe(false);
    expect(window.due(7)).toBe(0);
    expect(window.wants(6)).toBe(true);
    expect(window.creditOut).toBe(0); // wants() grants nothing
    expect(window.due(6)).toBe(2);
    expect(window.wants(6)).toBe(false);
  });
});
