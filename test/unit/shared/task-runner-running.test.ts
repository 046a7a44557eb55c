/**
 * The running slot a task thread writes through `onRunning`: the host reads the lease
 * and then the start time without a lock, so the time must never go back.
 */
import { expect, test } from 'vitest';
import {
  createTaskRunner,
  type FromThread,
  type ThreadOutcomes,
} from '../../../shared/task-runner.js';
import { lease } from '../../helpers/ids.js';

test('the start time told with each task stays put when the task ends', async () => {
  let clock = 5_000;
  const calls: [number, number][] = [];
  const posted: FromThread[] = [];
  let idle: (() => void) | null = null;
  const runner = createTaskRunner({
    importModule: () =>
      Promise.resolve({
        default: (x: number) => {
          clock += 7; // each task takes 7 ms of wall time
          return x;
        },
      }),
    post: (message) => {
      posted.push(message);
      idle?.();
    },
    now: () => clock,
    onRunning: (l, at) => calls.push([l, at]),
  });
  runner.handle({
    type: 'run',
    job: '1',
    module: 'm',
    leases: [1, 2, 3].map(lease),
    indexes: [0, 1, 2],
    attempts: [1, 1, 1],
    inputs: [1, 2, 3],
    deadline: Number.MAX_SAFE_INTEGER,
  });
  const done = () =>
    posted
      .filter((m): m is ThreadOutcomes => m.type === 'outcomes')
      .flatMap((m) => m.leases).length;
  while (done() < 3) await new Promise<void>((resolve) => (idle = resolve));
  // Each task is told started, then ended with the same time: a host that read the
  // lease before the end and the time after it sees that start, never 0.
  const starts = calls.filter(([l]) => l !== -1);
  expect(starts.map(([l]) => l)).toEqual([1, 2, 3]);
  for (let i = 0; i < calls.length; i += 2) {
    const [started, ended] = [calls[i], calls[i + 1]];
    expect(ended).toEqual([-1, started?.[1]]);
  }
  const times = calls.map(([, at]) => at);
  expect(times).toEqual([...times].sort((a, b) => a - b));
  expect(Math.min(...times)).toBeGreaterThanOrEqual(5_000);
});
