/**
 * Replicas and failures that mean something: copies go to distinct volunteers on
 * distinct addresses, a failure needs the agreement a success needs, and a volunteer
 * whose output disagrees with the agreed one is counted.
 */
import { describe, expect, test } from 'vitest';
import {
  assigned,
  crashed,
  credit,
  leave,
  makeScheduler,
  ok,
  records,
  send,
  submit,
  thrown,
  type TestScheduler,
} from '../../helpers/scheduler.js';

/** A worker of `volunteer` connecting from `address`. */
function joinAs(
  s: TestScheduler,
  workerId: string,
  volunteer: string,
  address: string,
  slots = 1,
): void {
  s.handle({
    type: 'worker-joined',
    workerId,
    kind: 'node',
    name: workerId,
    slots,
    volunteer,
    address,
    at: 0,
  });
}

/** The lease of task 0 sent to `workerId` on a grant, or undefined if none was. */
function leaseOf(s: TestScheduler, workerId: string): number | undefined {
  return assigned(credit(s, workerId, 1), workerId)[0]?.lease;
}

describe('replica placement', () => {
  test('two sockets of one volunteer never hold two copies of a task', () => {
    const s = makeScheduler();
    joinAs(s, 'a1', 'vA', '10.0.0.1');
    joinAs(s, 'a2', 'vA', '10.0.0.2');
    joinAs(s, 'b', 'vB', '10.0.0.3');
    submit(s, 'j', 1, { replicas: 2 });
    expect(leaseOf(s, 'a1')).toBeDefined();
    expect(leaseOf(s, 'a2')).toBeUndefined();
    expect(leaseOf(s, 'b')).toBeDefined();
  });

  test('two volunteers on one address never hold two copies of a task', () => {
    const s = makeScheduler();
    joinAs(s, 'a', 'vA', '10.0.0.1');
    joinAs(s, 'b', 'vB', '10.0.0.1');
    joinAs(s, 'c', 'vC', '10.0.0.2');
    submit(s, 'j', 1, { replicas: 2 });
    expect(leaseOf(s, 'a')).toBeDefined();
    expect(leaseOf(s, 'b')).toBeUndefined();
    expect(leaseOf(s, 'c')).toBeDefined();
  });

  test('a volunteer that voted does not vote again from another socket', () => {
    const s = makeScheduler();
    joinAs(s, 'a1', 'vA', '10.0.0.1');
    joinAs(s, 'b', 'vB', '10.0.0.2');
    submit(s, 'j', 1, { replicas: 2 });
    const la = leaseOf(s, 'a1') as number;
    const lb = leaseOf(s, 'b') as number;
    send(s, 'a1', [ok(la, 'FORGED')]);
    send(s, 'b', [ok(lb, 'honest')]);
    // A second socket of vA appears: it may not add a second FORGED vote.
    joinAs(s, 'a2', 'vA', '10.0.0.3');
    expect(leaseOf(s, 'a2')).toBeUndefined();
    joinAs(s, 'c', 'vC', '10.0.0.4');
    const lc = leaseOf(s, 'c') as number;
    expect(records(send(s, 'c', [ok(lc, 'honest')]))).toEqual([
      {
        type: 'record',
        jobId: 'j',
        index: 0,
        outcome: { ok: true, output: 'honest' },
      },
    ]);
  });

  test('with distinctAddresses off, one address holds many volunteers (a lab)', () => {
    const s = makeScheduler({ distinctAddresses: false });
    joinAs(s, 'a', 'vA', '127.0.0.1');
    joinAs(s, 'b', 'vB', '127.0.0.1');
    submit(s, 'j', 1, { replicas: 2 });
    const la = leaseOf(s, 'a') as number;
    const lb = leaseOf(s, 'b') as number;
    expect(lb).toBeDefined();
    send(s, 'a', [ok(la, 7)]);
    expect(records(send(s, 'b', [ok(lb, 7)]))).toHaveLength(1);
  });

  test('with distinctAddresses off, sockets of one volunteer still vote once', () => {
    const s = makeScheduler({ distinctAddresses: false });
    joinAs(s, 'a1', 'vA', '127.0.0.1');
    joinAs(s, 'a2', 'vA', '127.0.0.1');
    submit(s, 'j', 1, { replicas: 2 });
    expect(leaseOf(s, 'a1')).toBeDefined();
    expect(leaseOf(s, 'a2')).toBeUndefined();
  });
});

describe('dissent', () => {
  test('a volunteer whose output disagrees with the agreed one is counted', () => {
    const s = makeScheduler();
    joinAs(s, 'liar', 'vL', '10.0.0.1');
    joinAs(s, 'b', 'vB', '10.0.0.2');
    joinAs(s, 'c', 'vC', '10.0.0.3');
    submit(s, 'j', 1, { replicas: 2 });
    send(s, 'liar', [ok(leaseOf(s, 'liar') as number, 'FORGED')]);
    send(s, 'b', [ok(leaseOf(s, 'b') as number, 'honest')]);
    send(s, 'c', [ok(leaseOf(s, 'c') as number, 'honest')]);
    expect(s.workerView('liar')).toMatchObject({
      disagreed: 1,
      done: 0,
      volunteer: 'vL',
    });
    expect(s.workerView('b')).toMatchObject({ disagreed: 0, done: 1 });
    expect(s.disagreements).toBe(1);
  });
});

describe('failure evidence', () => {
  test('crash reports from three sockets of one volunteer do not fail a replicated task', () => {
    const s = makeScheduler();
    const sockets = ['f1', 'f2', 'f3'];
    joinAs(s, 'f1', 'vF', '10.0.0.1');
    submit(s, 'j', 1, { replicas: 2 });
    for (const [k, id] of sockets.entries()) {
      if (k > 0) joinAs(s, id, 'vF', `10.0.1.${k}`);
      const lease = leaseOf(s, id) as number;
      expect(lease).toBeDefined();
      expect(records(send(s, id, [crashed(lease, 'forged')]))).toEqual([]);
    }
    expect(s.jobView('j')?.counts.failed).toBe(0);
    // Honest volunteers elsewhere still finish it.
    joinAs(s, 'b', 'vB', '10.0.0.2');
    joinAs(s, 'c', 'vC', '10.0.0.3');
    send(s, 'b', [ok(leaseOf(s, 'b') as number, 1)]);
    expect(records(send(s, 'c', [ok(leaseOf(s, 'c') as number, 1)]))).toEqual([
      {
        type: 'record',
        jobId: 'j',
        index: 0,
        outcome: { ok: true, output: 1 },
      },
    ]);
  });

  test('errors from volunteers on one address do not fail a replicated task', () => {
    const s = makeScheduler();
    submit(s, 'j', 1, { replicas: 2, maxAttempts: 2 });
    for (const id of ['x1', 'x2', 'x3', 'x4']) {
      joinAs(s, id, `v-${id}`, '10.0.0.9');
      const lease = leaseOf(s, id) as number;
      expect(records(send(s, id, [thrown(lease, 'forged')]))).toEqual([]);
      leave(s, id, true);
    }
    expect(s.jobView('j')?.counts).toMatchObject({ failed: 0, queued: 1 });
  });

  test('dropped sockets of one volunteer do not fail a replicated task', () => {
    const s = makeScheduler();
    submit(s, 'j', 1, { replicas: 2 });
    for (const id of ['d1', 'd2', 'd3', 'd4']) {
      joinAs(s, id, 'vD', `10.0.2.${id.length}${id}`);
      expect(leaseOf(s, id)).toBeDefined();
      expect(records(leave(s, id, false))).toEqual([]);
    }
    expect(s.jobView('j')?.counts.failed).toBe(0);
  });

  test('crashes reported by enough independent volunteers do fail it', () => {
    const s = makeScheduler({ maxWorkerDeaths: 2 });
    joinAs(s, 'a', 'vA', '10.0.0.1');
    joinAs(s, 'b', 'vB', '10.0.0.2');
    submit(s, 'j', 1, { replicas: 2 });
    const la = leaseOf(s, 'a') as number;
    const lb = leaseOf(s, 'b') as number;
    expect(records(send(s, 'a', [crashed(la)]))).toEqual([]);
    const out = records(send(s, 'b', [crashed(lb)]));
    expect(out).toHaveLength(1);
    expect(out[0]?.outcome).toMatchObject({
      ok: false,
      code: 'E_TASK_KILLED_WORKERS',
    });
  });

  test('a job without replicas fails on one volunteer’s reports, as before', () => {
    const s = makeScheduler();
    joinAs(s, 'a', 'vA', '10.0.0.1');
    submit(s, 'j', 1, { maxAttempts: 2 });
    send(s, 'a', [thrown(leaseOf(s, 'a') as number)]);
    const out = records(send(s, 'a', [thrown(leaseOf(s, 'a') as number)]));
    expect(out[0]?.outcome).toMatchObject({ ok: false, code: 'E_TASK_FAILED' });
  });
});
