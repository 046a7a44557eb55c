/** The lines `colony submit --wait` and `colony demo` print: while a job runs, and when it ended. */
import { describe, expect, test } from 'vitest';
import {
  endLine,
  progressLine,
  shownRate,
} from '../../../server/commands/progress.js';
import type { JobDetail } from '../../../server/client/index.js';

const job = (over: Partial<JobDetail>): JobDetail =>
  ({
    id: '7',
    name: 'primes',
    state: 'completed',
    counts: { total: 1_000, queued: 0, running: 0, done: 995, failed: 5 },
    rate: 0,
    elapsedMs: 1_100,
    ...over,
  }) as JobDetail;

describe('endLine', () => {
  test('counts, time taken and the mean rate, whatever the live rate said', () => {
    expect(endLine(job({}))).toBe(
      'job 7: 1000/1000 (995 done, 5 failed); completed in 1.1s (909/s)',
    );
    expect(
      endLine(
        job({
          state: 'cancelled',
          counts: { total: 10, queued: 6, running: 0, done: 4, failed: 0 },
          elapsedMs: 0,
        }),
      ),
    ).toBe('job 7: 4/10 (4 done, 0 failed); cancelled in 0.0s (0/s)');
  });
});

describe('shownRate', () => {
  const running = (ended: number, rate: number) =>
    job({
      state: 'running',
      rate,
      counts: { total: 1_000, queued: 0, running: 0, done: ended, failed: 0 },
    });

  test("the master's rate once it has one", () => {
    expect(shownRate(running(500, 250), { at: 0, ended: 0 }, 1_000)).toBe(250);
  });

  test('until then, the mean since the job was first seen, not 0/s', () => {
    const first = { at: 10_000, ended: 52 };
    expect(shownRate(running(52, 0), first, 10_000)).toBeNaN();
    expect(progressLine(running(52, 0), NaN)).toBe(
      'job 7: 52/1000 (52 done, 0 failed), --/s, ETA --',
    );
    expect(shownRate(running(52, 0), first, 12_000)).toBe(0);
    expect(shownRate(running(552, 0), first, 10_500)).toBe(1_000);
    expect(progressLine(running(552, 0), 1_000)).toBe(
      'job 7: 552/1000 (552 done, 0 failed), 1000/s, ETA 1s',
    );
  });
});
