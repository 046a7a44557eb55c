/**
 * Credit accounting: only a recorded success earns credit, once, to the volunteer whose
 * result was recorded; agreeing replicas are credited, disagreeing ones and backup
 * copies that lost are not; busy time is bounded by the lease's age.
 */
import { describe, expect, test } from 'vitest';
import type {
  Assignment,
  Command,
  ReceivedResult,
} from '../../../server/master/scheduler/types.js';
import { lease as toLease } from '../../helpers/ids.js';
import {
  assigned,
  credit,
  makeScheduler,
  ofType,
  records,
  send,
  submit,
  thrown,
  tick,
  type TestScheduler,
} from '../../helpers/scheduler.js';

/** A worker of volunteer `v<workerId>` on an address of its own. */
function joinAs(s: TestScheduler, workerId: string, at = 0): void {
  s.handle({
    type: 'worker-joined',
    workerId,
    kind: workerId.startsWith('b') ? 'browser' : 'node',
    name: `name-${workerId}`,
    slots: 1,
    volunteer: `v${workerId}`,
    address: `addr-${workerId}`,
    at,
  });
}

/** Volunteers credited by these commands, with their busy time. */
function credited(commands: readonly Command[]): [string, number][] {
  return ofType(commands, 'credit').flatMap((c) =>
    c.credits.map((x): [string, number] => [x.volunteer, x.busyMs]),
  );
}

function take(s: TestScheduler, workerId: string, at = 0): Assignment {
  const [task] = assigned(credit(s, workerId, 1, at), workerId);
  if (task === undefined) throw new Error(`${workerId} got nothing`);
  return task;
}

const done = (
  lease: number,
  output: unknown,
  busyMs: number,
): ReceivedResult => ({
  lease: toLease(lease),
  ok: true,
  output,
  digest: JSON.stringify(output),
  busyMs,
});

describe('credit accounting', () => {
  test('a recorded success credits its volunteer once, with its kind, name and busy time', () => {
    const s = makeScheduler();
    joinAs(s, 'b1');
    submit(s, 'j', 1);
    const task = take(s, 'b1');
    const commands = send(s, 'b1', [done(task.lease, 1, 40)], 100);
    expect(ofType(commands, 'credit')).toEqual([
      {
        type: 'credit',
        credits: [
          {
            volunteer: 'vb1',
            kind: 'browser',
            name: 'name-b1',
            tasks: 1,
            busyMs: 40,
          },
        ],
      },
    ]);
    // The credit comes with the task's one record, just before it.
    const types = commands.map((c) => c.type);
    expect(types.indexOf('credit')).toBe(types.indexOf('record') - 1);
  });

  test('a batch of results is credited with one command: one entry per volunteer, tasks and busy time summed, before the first record', () => {
    const s = makeScheduler();
    joinAs(s, 'a');
    submit(s, 'j', 3);
    const tasks = assigned(credit(s, 'a', 3), 'a');
    expect(tasks).toHaveLength(3);
    const commands = send(
      s,
      'a',
      tasks.map((t, k) => done(t.lease, k, 10 * (k + 1))),
      100,
    );
    expect(records(commands)).toHaveLength(3);
    expect(ofType(commands, 'credit')).toEqual([
      {
        type: 'credit',
        credits: [
          {
            volunteer: 'va',
            kind: 'node',
            name: 'name-a',
            tasks: 3,
            busyMs: 60,
          },
        ],
      },
    ]);
    const types = commands.map((c) => c.type);
    expect(types.indexOf('credit')).toBe(types.indexOf('record') - 1);
  });

  test('a volunteer who renamed itself between its vote and the batch that decides is credited under each name', () => {
    const s = makeScheduler();
    joinAs(s, 'a');
    joinAs(s, 'b');
    submit(s, 'j', 2, { replicas: 2 });
    // a votes on task 0, leaves, and comes back under another name with the same key.
    const [first] = assigned(credit(s, 'a', 1), 'a');
    if (first === undefined) throw new Error('a got nothing');
    send(s, 'a', [done(first.lease, 'x', 5)], 10);
    s.handle({ type: 'worker-left', workerId: 'a', clean: true, at: 20 });
    s.handle({
      type: 'worker-joined',
      workerId: 'a2',
      kind: 'node',
      name: 'renamed',
      slots: 1,
      volunteer: 'va',
      address: 'addr-a2',
      at: 20,
    });
    // b's vote decides task 0 in the same batch as a2's vote on task 1 is cast.
    const fromB = assigned(credit(s, 'b', 2, 20), 'b');
    const fromA2 = assigned(credit(s, 'a2', 2, 20), 'a2');
    const zeroOfB = fromB.find((t) => t.index === first.index);
    const oneOfA2 = fromA2.find((t) => t.index !== first.index);
    const oneOfB = fromB.find((t) => t.index !== first.index);
    if (!zeroOfB || !oneOfA2 || !oneOfB) throw new Error('tasks not spread');
    send(s, 'a2', [done(oneOfA2.lease, 'y', 3)], 30);
    const decided = send(
      s,
      'b',
      [done(zeroOfB.lease, 'x', 7), done(oneOfB.lease, 'y', 4)],
      40,
    );
    expect(records(decided)).toHaveLength(2);
    const [command] = ofType(decided, 'credit');
    expect(command?.credits).toEqual([
      { volunteer: 'va', kind: 'node', name: 'name-a', tasks: 1, busyMs: 5 },
      {
        volunteer: 'vb',
        kind: 'browser',
        name: 'name-b',
        tasks: 2,
        busyMs: 11,
      },
      { volunteer: 'va', kind: 'node', name: 'renamed', tasks: 1, busyMs: 3 },
    ]);
  });

  test('a task redone elsewhere is credited once, to the volunteer whose result was recorded', () => {
    const s = makeScheduler({ leaseGraceMs: 0 });
    joinAs(s, 'a');
    joinAs(s, 'b');
    submit(s, 'j', 1, { timeoutMs: 1_000 });
    const first = take(s, 'a');
    tick(s, 1_000); // a's lease expires: the task goes to b
    const again = take(s, 'b', 1_000);
    expect(again.index).toBe(first.index);
    const won = send(s, 'b', [done(again.lease, 'x', 10)], 1_100);
    expect(records(won)).toHaveLength(1);
    expect(credited(won)).toEqual([['vb', 10]]);
    // a's late result of the same task earns nothing.
    const late = send(s, 'a', [done(first.lease, 'x', 900)], 1_200);
    expect(records(late)).toEqual([]);
    expect(credited(late)).toEqual([]);
  });

  test('a late result of an expired lease that is recorded first credits its sender, not the redo', () => {
    const s = makeScheduler({ leaseGraceMs: 0 });
    joinAs(s, 'a');
    joinAs(s, 'b');
    submit(s, 'j', 1, { timeoutMs: 1_000 });
    const first = take(s, 'a');
    tick(s, 1_000);
    const again = take(s, 'b', 1_000);
    const late = send(s, 'a', [done(first.lease, 'x', 5)], 1_050);
    expect(records(late)).toHaveLength(1);
    expect(credited(late)).toEqual([['va', 5]]);
    expect(credited(send(s, 'b', [done(again.lease, 'x', 5)], 1_100))).toEqual(
      [],
    );
  });

  test('on a replicas job the replicas that agreed are credited, the one that disagreed is not', () => {
    const s = makeScheduler();
    for (const id of ['a', 'b', 'c']) joinAs(s, id);
    submit(s, 'j', 1, { replicas: 2 });
    const ta = take(s, 'a');
    const tb = take(s, 'b');
    expect(credited(send(s, 'a', [done(ta.lease, 'right', 7)], 10))).toEqual(
      [],
    );
    expect(credited(send(s, 'b', [done(tb.lease, 'WRONG', 8)], 20))).toEqual(
      [],
    );
    const tc = take(s, 'c', 20);
    const agreed = send(s, 'c', [done(tc.lease, 'right', 9)], 30);
    expect(records(agreed)).toEqual([
      expect.objectContaining({ outcome: { ok: true, output: 'right' } }),
    ]);
    expect(credited(agreed)).toEqual([
      ['va', 7],
      ['vc', 9],
    ]);
  });

  test('a backup copy that lost the race is not credited', () => {
    const s = makeScheduler();
    joinAs(s, 'fast');
    joinAs(s, 'slow');
    submit(s, 'j', 30);
    // fast answers every task in 10 ms; slow takes the last one and sits on it.
    let now = 0;
    for (let i = 0; i < 29; i++) {
      const task = take(s, 'fast', now);
      now += 10;
      send(s, 'fast', [done(task.lease, i, 10)], now);
    }
    const held = take(s, 'slow', now);
    expect(assigned(credit(s, 'fast', 1, now))).toEqual([]);
    const [copy] = assigned(tick(s, now + 100), 'fast');
    if (copy === undefined) throw new Error('no backup copy');
    expect(copy.index).toBe(held.index);
    // The original wins: the backup copy is cancelled and its result earns nothing.
    const won = send(s, 'slow', [done(held.lease, 'o', 50)], now + 150);
    expect(credited(won)).toEqual([['vslow', 50]]);
    const lost = send(s, 'fast', [done(copy.lease, 'o', 40)], now + 160);
    expect(records(lost)).toEqual([]);
    expect(credited(lost)).toEqual([]);
  });

  test('failures earn nothing, and busy time is bounded by how long the lease was out', () => {
    const s = makeScheduler();
    joinAs(s, 'a');
    joinAs(s, 'b');
    submit(s, 'j', 1, { maxAttempts: 3 });
    const first = take(s, 'a', 1_000);
    expect(credited(send(s, 'a', [thrown(first.lease)], 1_010))).toEqual([]);
    const again = take(s, 'b', 2_000);
    // b claims an hour of work on a lease issued 250 ms ago.
    const won = send(s, 'b', [done(again.lease, 1, 3_600_000)], 2_250);
    expect(credited(won)).toEqual([['vb', 250]]);
  });
});
