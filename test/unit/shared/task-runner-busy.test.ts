/** The busy time a task thread measures around each task function, sent with its outcome. */
import { expect, test } from 'vitest';
import {
  createTaskRunner,
  type FromThread,
  type ThreadOutcomes,
} from '../../../shared/task-runner.js';
import { jobId, lease } from '../../helpers/ids.js';

test('each outcome carries the busy time of its task, on the busy clock', async () => {
  // A fake monotonic clock that the tasks themselves advance: 3 ms, then 0.25 ms.
  let busyClock = 100;
  const posted: FromThread[] = [];
  let idle: (() => void) | null = null;
  const runner = createTaskRunner({
    importModule: () =>
      Promise.resolve({
        default: (ms: number) => {
          busyClock += ms;
          if (ms < 0) throw new Error('negative');
          return ms;
        },
      }),
    post: (message) => {
      posted.push(message);
      idle?.();
    },
    now: () => 1_000,
    busyNow: () => busyClock,
  });
  runner.handle({
    type: 'run',
    job: jobId('1'),
    module: 'm',
    leases: [lease(1), lease(2)],
    indexes: [0, 1],
    attempts: [1, 1],
    inputs: [3, 0.25],
    deadline: Number.MAX_SAFE_INTEGER,
  });
  const outcomes = () =>
    posted.filter((m): m is ThreadOutcomes => m.type === 'outcomes');
  while (outcomes().flatMap((m) => m.leases).length < 2)
    await new Promise<void>((resolve) => (idle = resolve));
  const busy = outcomes().flatMap((m) => m.busy ?? []);
  const leases = outcomes().flatMap((m) => m.leases);
  expect(leases).toEqual([1, 2]);
  expect(busy).toEqual([3, 0.25]);
});
