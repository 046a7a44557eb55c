import { describe, expect, test } from 'vitest';
import {
  assigned,
  credit,
  join,
  makeScheduler,
  ok,
  send,
  submit,
} from '../../helpers/scheduler.js';

describe('job-purged', () => {
  test('forgets a completed job and leaves the others alone', () => {
    const s = makeScheduler();
    submit(s, 'a', 1);
    submit(s, 'b', 1);
    join(s, 'w');
    const [first] = assigned(credit(s, 'w', 1));
    expect(first?.jobId).toBe('a');
    send(s, 'w', [ok(first!.lease)], 5);
    expect(s.jobView('a')?.state).toBe('completed');

    const commands = s.handle({ type: 'job-purged', jobId: 'a', at: 6 });
    expect(s.jobView('a')).toBeUndefined();
    expect(s.jobViews().map((v) => v.spec.id)).toEqual(['b']);
    // Forgetting moves no task: b's one task was already out or queued as before.
    expect(commands.filter((c) => c.type !== 'assign')).toEqual([]);
    expect(s.jobView('b')?.state).toBe('running');
  });

  test('forgets a cancelled job; its late result is refused, not recorded', () => {
    const s = makeScheduler();
    submit(s, 'a', 2);
    join(s, 'w');
    const [task] = assigned(credit(s, 'w', 1));
    s.handle({ type: 'job-cancelled', jobId: 'a', at: 1 });
    s.handle({ type: 'job-purged', jobId: 'a', at: 2 });
    expect(s.jobView('a')).toBeUndefined();
    const late = send(s, 'w', [ok(task!.lease)], 3);
    expect(late.some((c) => c.type === 'record')).toBe(false);
  });

  test('keeps a running job: the shell must cancel it first', () => {
    const s = makeScheduler();
    submit(s, 'a', 3);
    s.handle({ type: 'job-purged', jobId: 'a', at: 1 });
    expect(s.jobView('a')?.state).toBe('running');
  });

  test('an unknown job is ignored', () => {
    const s = makeScheduler();
    expect(s.handle({ type: 'job-purged', jobId: 'nope', at: 1 })).toEqual([]);
  });
});
