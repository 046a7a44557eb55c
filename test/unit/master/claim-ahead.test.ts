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
    const ahead = new ClaimAhead(1_024);
    ahead.recorded(0, 0);
    // 500 outcomes in 100 ms: 5 per ms; claims take 20 ms: 2 x 20 x 5.
    ahead.recorded(500, 100);
    ahead.claimed(20);
    expect(ahead.ahead).toBe(200);
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
    ahead.recorded(1_000, 100);
    ahead.claimed(10);
    const busy = ahead.ahead;
    ahead.recorded(1, 10_100);
    expect(ahead.ahead).toBeLessThan(busy);
  });
});
