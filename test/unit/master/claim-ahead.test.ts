/**
 * How far a cluster master claims ahead of its workers' credit (cluster/claim-ahead.ts):
 * about two claims' round trips of work at the rate outcomes are recorded, capped.
 */
import { describe, expect, test } from 'vitest';
import { ClaimAhead } from '../../../server/master/cluster/claim-ahead.js';

describe('ClaimAhead', () => {
  test('nothing ahead before a rate and a claim time are known', () => {
    const ahead = new ClaimAhead(1_024);
    expect(ahead.ahead).toBe(0);
    ahead.claimed(50);
    expect(ahead.ahead).toBe(0);
    ahead.recorded(100, 0);
    expect(ahead.ahead).toBe(0);
  });

  test('two claim round trips of work at the recorded rate', () => {
    const ahead = new ClaimAhead(2_048);
    ahead.recorded(0, 0);
    // 500 outcomes in 100 ms: 5 per ms; claims take 120 ms: 2 x 120 x 5.
    ahead.recorded(500, 100);
    ahead.claimed(120);
    expect(ahead.ahead).toBe(1_200);
  });

  test('at least 200 ms of work ahead when claims are quick', () => {
    const ahead = new ClaimAhead(2_048);
    ahead.recorded(0, 0);
    ahead.recorded(500, 100); // 5 per ms
    ahead.claimed(5);
    expect(ahead.ahead).toBe(1_000);
  });

  test('workers that ran dry double the work ahead, up to 1 s of it', () => {
    const ahead = new ClaimAhead(100_000);
    ahead.recorded(0, 0);
    ahead.recorded(100, 100); // 1 per ms
    ahead.claimed(5);
    expect(ahead.ahead).toBe(200);
    ahead.claimed(5, true);
    expect(ahead.ahead).toBe(400);
    for (let i = 0; i < 10; i++) ahead.claimed(5, true);
    expect(ahead.ahead).toBe(1_000);
    // Claims that found the workers busy shrink it back, slowly.
    ahead.claimed(5);
    expect(ahead.ahead).toBe(950);
    for (let i = 0; i < 100; i++) ahead.claimed(5);
    expect(ahead.ahead).toBe(200);
  });

  test('claims top the queue ahead up only once half of it is gone', () => {
    const ahead = new ClaimAhead(1_024);
    ahead.recorded(0, 0);
    ahead.recorded(100, 100); // 1 per ms: 200 ahead
    ahead.claimed(5);
    expect(ahead.ahead).toBe(200);
    // Workers waiting for 10: theirs and the whole queue ahead.
    expect(ahead.toClaim(10)).toBe(210);
    // Workers served; 150 of 200 still queued here: no claim.
    expect(ahead.toClaim(-150)).toBe(0);
    // 90 left: top up.
    expect(ahead.toClaim(-90)).toBe(110);
    expect(ahead.toClaim(-300)).toBe(0);
  });

  test('slow tasks hold nothing ahead, and the cap bounds fast ones', () => {
    const slow = new ClaimAhead(1_024);
    slow.recorded(0, 0);
    slow.recorded(1, 1_000); // one task a second
    slow.claimed(30);
    expect(slow.ahead).toBe(1);
    const fast = new ClaimAhead(256);
    fast.recorded(0, 0);
    fast.recorded(100_000, 100);
    fast.claimed(100);
    expect(fast.ahead).toBe(256);
  });

  test('an idle spell lowers the rate: the tail of a job is not hoarded', () => {
    const ahead = new ClaimAhead(1_024);
    ahead.recorded(0, 0);
    ahead.recorded(400, 100);
    ahead.claimed(10);
    const busy = ahead.ahead;
    ahead.recorded(1, 10_100);
    expect(ahead.ahead).toBeLessThan(busy);
  });

  test('claims that find workers idle after an idle spell hold their size ahead, doubling', () => {
    const ahead = new ClaimAhead(1_024);
    ahead.recorded(0, 0);
    ahead.recorded(100, 100); // 1 per ms
    ahead.claimed(10);
    expect(ahead.ahead).toBe(200);
    // Seconds idle between jobs: the rate measured falls (to ~0.7 per ms).
    ahead.recorded(1, 10_100);
    const afterIdle = ahead.ahead;
    expect(afterIdle).toBeLessThan(200);
    // The next job's first claims find idle threads: what they brought is held ahead
    // at least, and doubles while the workers stay hungry.
    ahead.claimed(10, true, 300);
    expect(ahead.ahead).toBe(Math.max(afterIdle, 300));
    ahead.claimed(10, true, 50);
    expect(ahead.ahead).toBe(Math.max(afterIdle, 600));
    ahead.claimed(10, true, 50);
    ahead.claimed(10, true, 50);
    expect(ahead.ahead).toBe(1_024);
    // Fed workers let it shrink back to what the rate says.
    for (let i = 0; i < 200; i++) ahead.claimed(10, false, 50);
    expect(ahead.ahead).toBe(afterIdle);
  });

  test('an empty or unstarved claim sets no floor', () => {
    const ahead = new ClaimAhead(1_024);
    ahead.claimed(10, false, 500);
    expect(ahead.ahead).toBe(0);
    ahead.claimed(10, true, 0);
    expect(ahead.ahead).toBe(0);
  });
});
