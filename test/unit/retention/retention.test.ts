import { describe, expect, test } from 'vitest';
import {
  checkEveryMs,
  jobsToPurge,
  parseDuration,
} from '../../../server/master/retention.js';
import { makeScheduler, submit } from '../../helpers/scheduler.js';

describe('parseDuration', () => {
  test('days, hours, minutes, seconds', () => {
    expect(parseDuration('7d')).toBe(7 * 86_400_000);
    expect(parseDuration('12h')).toBe(12 * 3_600_000);
    expect(parseDuration('30m')).toBe(30 * 60_000);
    expect(parseDuration('2s')).toBe(2_000);
  });

  test('refuses what is not a duration', () => {
    for (const bad of ['', '7', 'd', '0d', '-1d', '1.5h', '7w', '99999999d']) {
      expect(parseDuration(bad)).toBeUndefined();
    }
  });
});

describe('jobsToPurge', () => {
  // Fake time: each job ends at the `at` of its own event.
  function endedAt(ends: Record<string, number | null>) {
    const s = makeScheduler();
    for (const [id, at] of Object.entries(ends)) {
      // An empty sealed job completes at once, at the time of its submission.
      if (at === null) submit(s, id, 1, {}, 0);
      else submit(s, id, 0, {}, at);
    }
    return s.jobViews();
  }

  test('only jobs ended at or before the cutoff, oldest first', () => {
    // Submitted in time order: the scheduler's clock never goes back.
    const views = endedAt({ b: 100, a: 500, d: 999, c: 1_000, e: null });
    // now 2000, retain 1000 ms: the cutoff is 1000.
    expect(jobsToPurge(views, 2_000, 1_000, 10)).toEqual(['b', 'a', 'd', 'c']);
    expect(jobsToPurge(views, 1_999, 1_000, 10)).toEqual(['b', 'a', 'd']);
    expect(jobsToPurge(views, 1_100, 1_000, 10)).toEqual(['b']);
    expect(jobsToPurge(views, 1_099, 1_000, 10)).toEqual([]);
  });

  test('a running job is never due, however old', () => {
    const views = endedAt({ old: null });
    expect(jobsToPurge(views, 10 ** 12, 1, 10)).toEqual([]);
  });

  test('at most `limit` a round', () => {
    const views = endedAt({ a: 1, b: 2, c: 3 });
    expect(jobsToPurge(views, 100, 10, 2)).toEqual(['a', 'b']);
  });

  test('checks a tenth as often as the retention, within 1 s and 60 s', () => {
    expect(checkEveryMs(2_000)).toBe(1_000);
    expect(checkEveryMs(100_000)).toBe(10_000);
    expect(checkEveryMs(7 * 86_400_000)).toBe(60_000);
  });
});
