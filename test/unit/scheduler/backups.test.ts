/**
 * Backup copies at the tail: idle credit goes to stragglers once nothing is queued, on
 * another worker, within the job's cap; the first result is recorded, the rest cancelled.
 */
import { describe, expect, test } from 'vitest';
import type { Assignment } from '../../../server/master/scheduler/types.js';
import {
  assigned,
  cancelled,
  credit,
  feeds,
  join,
  makeScheduler,
  ok,
  records,
  send,
  submit,
  tick,
  type TestScheduler,
} from '../../helpers/scheduler.js';

/** Two workers with one slot each; job `j` of `n` tasks (10 ms each on `fast`). */
function setUp(n: number, backups = true): TestScheduler {
  const s = makeScheduler();
  join(s, 'fast');
  join(s, 'slow');
  submit(s, 'j', n, { backups });
  return s;
}

/**
 * Runs the job until only one task is open, held by `slow`: `fast` answers every task in
 * 10 ms, and `slow` takes the last one when `fast` is done. Ends with `fast` granting
 * credit that nothing is queued for.
 */
function runToTail(s: TestScheduler): { held: Assignment; now: number } {
  let now = 0;
  let [task] = assigned(credit(s, 'fast', 1, now), 'fast');
  while (task !== undefined && (s.jobView('j')?.counts.queued ?? 0) > 0) {
    now += 10;
    send(s, 'fast', [ok(task.lease, task.index)], now);
    if ((s.jobView('j')?.counts.queued ?? 0) === 1) break;
    [task] = assigned(credit(s, 'fast', 1, now), 'fast');
  }
  const [held] = assigned(credit(s, 'slow', 1, now), 'slow');
  if (held === undefined) throw new Error('slow got nothing');
  expect(assigned(credit(s, 'fast', 1, now))).toEqual([]);
  return { held, now };
}

/** Runs to the tail and past the time the straggler's backup copy is due. */
function backupCopy(
  s: TestScheduler,
  at = 100,
): Assignment & { held: Assignment; now: number } {
  const { held, now } = runToTail(s);
  const [copy] = assigned(tick(s, now + at), 'fast');
  if (copy === undefined) throw new Error('no backup copy');
  return { ...copy, held, now: now + at };
}

describe('backup copies', () => {
  test('go to a worker with idle credit only once nothing is queued, and only when due', () => {
    const s = setUp(30);
    const { held, now } = runToTail(s);
    const view = s.jobView('j');
    expect(view?.counts).toMatchObject({ queued: 0, running: 1, done: 29 });
    // `fast` has idle credit, but the straggler has not yet run twice the typical 10 ms.
    expect(view?.backups.issued).toBe(0);
    const due = s.nextWakeAt();
    expect(due).toBe(now + 20);
    expect(assigned(tick(s, now + 19))).toEqual([]);
    const commands = tick(s, now + 20);
    const copies = assigned(commands, 'fast');
    expect(copies).toEqual([
      expect.objectContaining({ jobId: 'j', index: held.index, attempt: 2 }),
    ]);
    expect(feeds(commands).map((f) => f.kind)).toContain('backup');
    expect(s.jobView('j')?.backups).toEqual({ issued: 1, won: 0 });
  });

  test('the first result is recorded and the other copy is cancelled, its result ignored', () => {
    const s = setUp(30);
    const copy = backupCopy(s);
    const { held } = copy;
    expect(copy.lease).not.toBe(held.lease);
    const won = send(s, 'fast', [ok(copy.lease, 'from-backup')], 1_000);
    expect(records(won)).toEqual([
      expect.objectContaining({
        index: held.index,
        outcome: { ok: true, output: 'from-backup' },
      }),
    ]);
    expect(cancelled(won)).toEqual({ slow: [held.lease] });
    expect(s.jobView('j')?.state).toBe('completed');
    expect(s.jobView('j')?.backups).toEqual({ issued: 1, won: 1 });
    // The loser's result crossed the cancel: neither recorded nor refused.
    const late = send(s, 'slow', [ok(held.lease, 'late')], 1_100);
    expect(records(late)).toEqual([]);
    expect(late.filter((c) => c.type === 'reject-result')).toEqual([]);
  });

  test('the original copy may still win; the backup is then cancelled', () => {
    const s = setUp(30);
    const copy = backupCopy(s);
    const won = send(s, 'slow', [ok(copy.held.lease, 'original')], 1_000);
    expect(records(won)).toHaveLength(1);
    expect(cancelled(won)).toEqual({ fast: [copy.lease] });
    expect(s.jobView('j')?.backups).toEqual({ issued: 1, won: 0 });
  });

  test('never go to the worker that runs the task', () => {
    const s = makeScheduler();
    join(s, 'only', 2);
    submit(s, 'j', 30);
    const [stuck, first] = assigned(credit(s, 'only', 2, 0));
    if (stuck === undefined || first === undefined) throw new Error('no tasks');
    // `only` answers everything but its first task, and keeps a slot idle at the tail.
    let now = 0;
    let task: Assignment | undefined = first;
    while (task !== undefined) {
      now += 10;
      send(s, 'only', [ok(task.lease)], now);
      [task] = assigned(credit(s, 'only', 1, now));
    }
    expect(s.jobView('j')?.counts).toMatchObject({ queued: 0, running: 1 });
    expect(assigned(tick(s, now + 30_000))).toEqual([]);
    expect(s.jobView('j')?.backups.issued).toBe(0);
  });

  test('are capped at a tenth of the job', () => {
    const s = makeScheduler();
    join(s, 'fast', 1);
    join(s, 'slow', 8);
    submit(s, 'j', 40);
    const held = assigned(credit(s, 'slow', 8, 0), 'slow');
    expect(held).toHaveLength(8);
    let now = 0;
    let [task] = assigned(credit(s, 'fast', 1, now), 'fast');
    while (task !== undefined) {
      now += 10;
      send(s, 'fast', [ok(task.lease)], now);
      if (s.jobView('j')?.counts.queued === 0) break;
      [task] = assigned(credit(s, 'fast', 1, now), 'fast');
    }
    // Plenty of idle credit and time; 8 stragglers, but 40 tasks allow 4 copies.
    const copies = assigned(credit(s, 'fast', 20, now), 'fast');
    expect(copies).toHaveLength(4);
    expect(new Set(copies.map((c) => c.index)).size).toBe(4);
    expect(assigned(tick(s, now + 2_000))).toEqual([]);
    expect(s.jobView('j')?.backups.issued).toBe(4);
  });

  test('are not issued when the job turns them off', () => {
    const s = setUp(30, false);
    runToTail(s);
    expect(assigned(tick(s, 10_000))).toEqual([]);
    expect(s.jobView('j')?.backups.issued).toBe(0);
  });

  test('a task whose original lease expires keeps running on its backup copy', () => {
    const s = makeScheduler();
    join(s, 'fast');
    join(s, 'slow');
    submit(s, 'j', 30, { timeoutMs: 1_000 });
    const copy = backupCopy(s);
    expect(copy.held.index).toBe(copy.index);
    // The original lease expires (timeout + 2 s grace): the task is not queued again.
    const expired = tick(s, copy.now + 2_950);
    expect(assigned(expired)).toEqual([]);
    expect(s.jobView('j')?.counts).toMatchObject({ queued: 0, running: 1 });
    const won = send(s, 'fast', [ok(copy.lease, 'x')], copy.now + 2_960);
    expect(records(won)).toHaveLength(1);
  });
});
