/** The last line `colony submit --wait` and `colony demo` print for a job that ended. */
import { describe, expect, test } from 'vitest';
import { endLine } from '../../../server/commands/progress.js';
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
