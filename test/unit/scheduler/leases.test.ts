import { describe, expect, test } from 'vitest';
import {
  assigned,
  cancelled,
  credit,
  feeds,
  join,
  leave,
  makeScheduler,
  ofType,
  ok,
  records,
  send,
  submit,
  thrown,
  tick,
} from '../../helpers/scheduler.js';
import {
  LeaseList,
  LeaseRecord,
  type JobRecord,
  type WorkerRecord,
} from '../../../server/master/scheduler/records.js';
import { WindowMap } from '../../../server/master/scheduler/window-map.js';
import { lease as toLease } from '../../helpers/ids.js';

describe('lease expiry', () => {
  test('a lease expires at dispatch + timeoutMs + leaseGraceMs, not before', () => {
    const s = makeScheduler({ leaseGraceMs: 500 });
    join(s, 'w1');
    submit(s, 'j', 1, { timeoutMs: 1_000 });
    expect(s.nextWakeAt()).toBeUndefined();
    credit(s, 'w1', 5, 100);
    expect(s.nextWakeAt()).toBe(1_600);

    expect(tick(s, 1_599)).toEqual([]);
    const expired = tick(s, 1_600);
    expect(feeds(expired)).toEqual([
      {
        kind: 'reassigned',
        text: '1 task of worker w1 reassigned (lease expired)',
      },
    ]);
    // The holder stays connected, still has credit, and gets the task again.
    expect(assigned(expired)).toEqual([
      { jobId: 'j', index: 0, lease: 2, attempt: 2 },
    ]);
    expect(s.workerView('w1')?.inFlight).toBe(1);
    expect(s.nextWakeAt()).toBe(3_100);
  });

  test('the grace period defaults to 2 s', () => {
    const s = makeScheduler();
    join(s, 'w1');
    submit(s, 'j', 1, { timeoutMs: 1_000 });
    credit(s, 'w1', 1, 0);
    expect(s.nextWakeAt()).toBe(3_000);
  });

  test('an expired task goes to another worker first, ahead of fresh tasks', () => {
    const s = makeScheduler({ leaseGraceMs: 0 });
    join(s, 'w1');
    join(s, 'w2');
    submit(s, 'j', 3, { timeoutMs: 1_000 });
    credit(s, 'w1', 1, 0);
    expect(s.jobView('j')?.counts).toMatchObject({ queued: 2, running: 1 });
    tick(s, 1_000);
    expect(s.jobView('j')?.counts).toMatchObject({ queued: 3, running: 0 });
    expect(s.workerView('w1')?.inFlight).toBe(0);
    expect(
      assigned(credit(s, 'w2', 2, 1_001)).map((t) => [t.index, t.attempt]),
    ).toEqual([
      [0, 2],
      [1, 1],
    ]);
  });

  test('any event makes time pass, not only ticks', () => {
    const s = makeScheduler({ leaseGraceMs: 0 });
    join(s, 'w1');
    join(s, 'w2');
    submit(s, 'j', 1, { timeoutMs: 1_000 });
    credit(s, 'w1', 1, 0);
    expect(assigned(credit(s, 'w2', 1, 1_000))).toEqual([
      { jobId: 'j', index: 0, lease: 2, attempt: 2 },
    ]);
  });

  test('the clock never goes back: an older `at` does not un-expire anything', () => {
    const s = makeScheduler({ leaseGraceMs: 0 });
    join(s, 'w1');
    submit(s, 'j', 2, { timeoutMs: 1_000 });
    credit(s, 'w1', 1, 5_000);
    tick(s, 10);
    expect(s.nextWakeAt()).toBe(6_000);
    expect(tick(s, 5_999)).toEqual([]);
  });

  test('nextWakeAt is the earliest expiry over jobs with different timeouts', () => {
    const s = makeScheduler({ leaseGraceMs: 0 });
    join(s, 'w1');
    submit(s, 'slow', 1, { timeoutMs: 10_000 });
    credit(s, 'w1', 1, 0);
    submit(s, 'fast', 1, { timeoutMs: 1_000 }, 100);
    credit(s, 'w1', 1, 100);
    expect(s.nextWakeAt()).toBe(1_100);
    send(s, 'w1', [ok(2)], 200);
    expect(s.nextWakeAt()).toBe(10_000);
    send(s, 'w1', [ok(1)], 300);
    expect(s.nextWakeAt()).toBeUndefined();
  });

  test('one task at a time, alternating lease lengths: each expires when due', () => {
    // Every result empties its length's queue, which is kept for the next lease of that
    // length (and dropped once the other length is used): expiries stay exact.
    const s = makeScheduler({ leaseGraceMs: 0 });
    join(s, 'w1');
    submit(s, 'a', 20, { timeoutMs: 1_000 });
    submit(s, 'b', 20, { timeoutMs: 3_000 }, 1);
    let at = 10;
    let lease = assigned(credit(s, 'w1', 1, at))[0]!;
    const jobs = new Set<string>();
    for (let k = 0; k < 12; k++) {
      jobs.add(lease.jobId);
      expect(s.nextWakeAt()).toBe(at + (lease.jobId === 'a' ? 1_000 : 3_000));
      at += 10;
      send(s, 'w1', [ok(lease.lease)], at);
      lease = assigned(credit(s, 'w1', 1, at))[0]!;
    }
    expect(jobs).toEqual(new Set(['a', 'b']));
    // The last one is not answered: it expires when due, not before.
    const due = at + (lease.jobId === 'a' ? 1_000 : 3_000);
    expect(s.nextWakeAt()).toBe(due);
    expect(feeds(tick(s, due - 1))).toEqual([]);
    expect(feeds(tick(s, due))).toEqual([
      {
        kind: 'reassigned',
        text: '1 task of worker w1 reassigned (lease expired)',
      },
    ]);
  });

  test('thousands of leases expire in order, cheaply', () => {
    const s = makeScheduler({ leaseGraceMs: 0 });
    join(s, 'w1');
    submit(s, 'j', 5_000, { timeoutMs: 1_000 });
    for (let k = 0; k < 5; k++) credit(s, 'w1', 1_000, k * 10);
    // Answer every other lease: the queue skips the settled ones.
    send(
      s,
      'w1',
      Array.from({ length: 2_500 }, (_, k) => ok(2 * k + 1)),
      50,
    );
    expect(s.nextWakeAt()).toBe(1_000);
    const first = tick(s, 1_000);
    expect(feeds(first)).toEqual([
      {
        kind: 'reassigned',
        text: '500 tasks of worker w1 reassigned (lease expired)',
      },
    ]);
    expect(s.nextWakeAt()).toBe(1_010);
    tick(s, 1_040);
    expect(s.jobView('j')?.counts).toMatchObject({
      queued: 2_500,
      done: 2_500,
    });
    expect(s.nextWakeAt()).toBeUndefined();
  });
});

describe('late and forged results', () => {
  test('a late success is recorded if the task has no result yet; the new copy is cancelled', () => {
    const s = makeScheduler({ leaseGraceMs: 0 });
    join(s, 'w1');
    join(s, 'w2');
    submit(s, 'j', 1, { timeoutMs: 1_000 });
    credit(s, 'w1', 1, 0);
    credit(s, 'w2', 1, 1_000); // lease 1 expired; lease 2 to w2
    const late = send(s, 'w1', [ok(1, 'first')], 1_500);
    expect(records(late)).toEqual([
      {
        type: 'record',
        jobId: 'j',
        index: 0,
        outcome: { ok: true, output: 'first' },
      },
    ]);
    expect(cancelled(late)).toEqual({ w2: [2] });
    expect(ofType(late, 'job-finished')).toHaveLength(1);
    expect(s.workerView('w1')?.done).toBe(1);
    // w2's answer crossed the cancel: a normal race, neither recorded nor rejected.
    expect(send(s, 'w2', [ok(2, 'second')], 1_600)).toEqual([]);
  });

  test('a late result after the task got its result is never recorded twice', () => {
    const s = makeScheduler({ leaseGraceMs: 0 });
    join(s, 'w1');
    join(s, 'w2');
    submit(s, 'j', 2, { timeoutMs: 1_000 });
    credit(s, 'w1', 1, 0);
    credit(s, 'w2', 1, 1_000);
    const second = send(s, 'w2', [ok(2, 'second')], 1_100);
    expect(records(second)).toHaveLength(1);
    // The expired holder is told to stop too.
    expect(cancelled(second)).toEqual({ w1: [1] });
    expect(send(s, 'w1', [ok(1, 'first')], 1_200)).toEqual([]);
    expect(s.workerView('w1')?.done).toBe(0);
  });

  test('a late failure counts while the task is open, and not after', () => {
    const s = makeScheduler({ leaseGraceMs: 0 });
    join(s, 'w1');
    join(s, 'w2');
    submit(s, 'j', 1, { timeoutMs: 1_000, maxAttempts: 2 });
    credit(s, 'w1', 1, 0);
    credit(s, 'w2', 1, 1_000); // lease 2 on w2
    expect(send(s, 'w1', [thrown(1, 'late throw')], 1_100)).toEqual([]);
    expect(s.jobView('j')?.errors).toEqual([{ index: 0, error: 'late throw' }]);
    // The second throw reaches maxAttempts.
    const failed = send(s, 'w2', [thrown(2, 'again')], 1_200);
    expect(records(failed)).toEqual([
      {
        type: 'record',
        jobId: 'j',
        index: 0,
        outcome: { ok: false, error: 'again', code: 'E_TASK_FAILED' },
      },
    ]);
  });

  test('a lease nobody was given is rejected, and nothing changes', () => {
    const s = makeScheduler();
    join(s, 'w1');
    submit(s, 'j', 2);
    credit(s, 'w1', 1);
    const before = s.jobViews();
    expect(send(s, 'w1', [ok(99)])).toEqual([
      {
        type: 'reject-result',
        workerId: 'w1',
        lease: 99,
        code: 'E_UNKNOWN_LEASE',
        message: 'lease 99 is not held by this worker',
      },
    ]);
    expect(s.jobViews()).toEqual(before);
  });

  test("another worker's lease is rejected (forged), and the holder keeps it", () => {
    const s = makeScheduler();
    join(s, 'w1');
    join(s, 'w2');
    submit(s, 'j', 1);
    credit(s, 'w1', 1);
    const forged = send(s, 'w2', [ok(1, 'forged')]);
    expect(ofType(forged, 'reject-result')).toEqual([
      expect.objectContaining({
        workerId: 'w2',
        lease: 1,
        code: 'E_UNKNOWN_LEASE',
      }),
    ]);
    expect(records(forged)).toEqual([]);
    expect(s.workerView('w1')?.inFlight).toBe(1);
    expect(records(send(s, 'w1', [ok(1, 'real')]))).toHaveLength(1);
  });

  test('a result quoted twice is rejected the second time', () => {
    const s = makeScheduler();
    join(s, 'w1');
    submit(s, 'j', 2);
    credit(s, 'w1', 2);
    const commands = send(s, 'w1', [ok(1), ok(1)]);
    expect(records(commands)).toHaveLength(1);
    expect(ofType(commands, 'reject-result')).toHaveLength(1);
  });
});

describe('lease table', () => {
  test('a lease held long, while thousands of others come and go, still fences its result', () => {
    // Leases seeded from the clock, as the master does: far past small integers.
    const first = 1_700_000_000_000_000;
    const s = makeScheduler({ firstLease: first, leaseGraceMs: 0 });
    join(s, 'slow');
    join(s, 'fast');
    submit(s, 'j', 6_001, { timeoutMs: 1_000 });
    const held = assigned(credit(s, 'slow', 1, 0));
    expect(held).toEqual([{ jobId: 'j', index: 0, lease: first, attempt: 1 }]);
    // Another lease that expires and stays on record (for a late result) meanwhile.
    const late = assigned(credit(s, 'fast', 1, 0));
    expect(late).toHaveLength(1);
    tick(s, 1_000); // both expire; their tasks go back to the queue
    let done = 0;
    for (let round = 0; round < 30; round++) {
      const tasks = assigned(credit(s, 'fast', 200, 1_000 + round));
      const answered = send(
        s,
        'fast',
        tasks.filter((t) => t.index > 1).map((t) => ok(t.lease, t.index)),
        1_000 + round,
      );
      done += records(answered).length;
      s.checkInvariants();
    }
    // Task 1 expired on 'fast', so it is steered away from it: 'fast' gets task 0 and
    // every fresh task (2..6000), and answers all but task 0.
    expect(done).toBe(5_999);
    // The expired leases are still known: their late results are recorded once...
    expect(records(send(s, 'slow', [ok(first, 'late')], 2_000))).toHaveLength(
      1,
    );
    expect(records(send(s, 'fast', [ok(late[0]!.lease)], 2_000))).toHaveLength(
      1,
    );
    // ...and only once; a lease never issued is refused.
    expect(records(send(s, 'slow', [ok(first, 'again')], 2_000))).toEqual([]);
    expect(
      ofType(send(s, 'slow', [ok(first + 1_000_000)], 2_000), 'reject-result'),
    ).toHaveLength(1);
    expect(s.jobView('j')?.counts).toMatchObject({ done: 6_001, queued: 0 });
  });
});

describe('WindowMap and LeaseList', () => {
  // A small deterministic generator, so that a failure replays.
  function random(seed: number): () => number {
    let x = seed;
    return () => {
      x = (x * 1_103_515_245 + 12_345) % 2_147_483_648;
      return x / 2_147_483_648;
    };
  }

  function record(lease: number): LeaseRecord {
    return new LeaseRecord(
      toLease(lease),
      undefined as unknown as JobRecord,
      0,
      undefined as unknown as WorkerRecord,
      0,
    );
  }

  test('behave as a Map and an ordered Set would, whatever the order of keys and deletes', () => {
    // Plain checks in the loop (expect() is slow); expects per trial at the end.
    const mismatches: string[] = [];
    for (let trial = 0; trial < 16; trial++) {
      const rnd = random(trial + 1);
      const map = new WindowMap<LeaseRecord>();
      const list = new LeaseList();
      const model = new Map<number, LeaseRecord>();
      const listed: LeaseRecord[] = [];
      const live: number[] = [];
      // Keys mostly increase (leases, fresh tasks), with some below the window
      // (re-queued tasks), gaps, far jumps and values replaced. Some keys stay for
      // long: they pin the front of the window, which must then move them aside.
      let next = (trial % 2 === 0 ? 1_700_000_000_000_000 : 0) + trial;
      const pinned = new Set<number>([next]);
      for (let op = 0; op < 20_000; op++) {
        const r = rnd();
        if (r < 0.5 || live.length === 0) {
          let key = next;
          const jump = rnd();
          if (jump < 0.03 && live.length > 0) {
            key = live[0]! - 1 - Math.floor(rnd() * 100); // below the window
          } else if (jump < 0.06) {
            key = next - 1 - Math.floor(rnd() * 200); // a recent key skipped
          } else if (jump < 0.07) {
            key = next + Math.floor(rnd() * 60); // a small gap
          } else if (jump < 0.073) {
            key = next + 100 + Math.floor(rnd() * 3_000); // a far jump
          }
          if (model.has(key)) continue;
          next = Math.max(next, key + 1);
          const rec = record(key);
          map.set(key, rec);
          model.set(key, rec);
          live.push(key);
          if (rnd() < 0.5) {
            list.add(rec);
            listed.push(rec);
          }
          continue;
        }
        const k =
          rnd() < 0.8
            ? Math.floor(rnd() * Math.min(live.length, 50))
            : Math.floor(rnd() * live.length);
        const key = live[k]!;
        if (r < 0.55) {
          // Replace the value of a key held.
          const rec = record(key);
          map.set(key, rec);
          const old = model.get(key)!;
          model.set(key, rec);
          if (list.has(old)) {
            list.delete(old);
            listed.splice(listed.indexOf(old), 1);
          }
          continue;
        }
        if (rnd() < 0.005) pinned.add(key);
        if (pinned.has(key) && (key === live[0] || rnd() < 0.999)) continue;
        live.splice(k, 1);
        const rec = model.get(key)!;
        if (!map.delete(key)) mismatches.push(`delete ${key}`);
        if (map.delete(key)) mismatches.push(`deleted twice ${key}`);
        model.delete(key);
        if (list.has(rec)) {
          if (!list.delete(rec)) mismatches.push(`list delete ${key}`);
          listed.splice(listed.indexOf(rec), 1);
        }
        if (list.delete(rec)) mismatches.push(`list deleted twice ${key}`);
        if (op % 101 === 0) {
          for (let q = 0; q < 20; q++) {
            const probe = next - 1 - Math.floor(rnd() * 3_000);
            if (map.get(probe) !== model.get(probe))
              mismatches.push(`get ${probe}`);
          }
          if (map.get(next) !== undefined) mismatches.push(`get ${next}`);
          if (map.size !== model.size) mismatches.push(`size at ${op}`);
        }
      }
      expect(mismatches).toEqual([]);
      expect(map.size).toBe(model.size);
      expect(new Map(map.entries())).toEqual(model);
      expect(map.entries()).toHaveLength(model.size);
      expect(new Set(map.keys())).toEqual(new Set(model.keys()));
      expect(new Set(map.values())).toEqual(new Set(model.values()));
      for (const [key, rec] of model) {
        if (map.get(key) !== rec || !map.has(key))
          mismatches.push(`final get ${key}`);
      }
      expect(mismatches).toEqual([]);
      expect(list.size).toBe(listed.length);
      expect(list.toArray()).toEqual(listed);
      expect([...list]).toEqual(listed);
    }
  });
});

describe('disconnects', () => {
  test('a clean leave returns every active lease to the front of the queue at once', () => {
    const s = makeScheduler();
    join(s, 'w1', 2);
    submit(s, 'j', 6);
    credit(s, 'w1', 3);
    const left = leave(s, 'w1', true, 5);
    expect(feeds(left)).toEqual([
      {
        kind: 'reassigned',
        text: '3 tasks of worker w1 reassigned (worker left)',
      },
      { kind: 'left', text: 'worker w1 left' },
    ]);
    expect(s.jobView('j')?.counts).toMatchObject({ queued: 6, running: 0 });
    expect(s.workerViews()).toEqual([]);
    expect(s.nextWakeAt()).toBeUndefined();
    join(s, 'w2');
    expect(assigned(credit(s, 'w2', 4)).map((t) => t.index)).toEqual([
      0, 1, 2, 3,
    ]);
  });

  test('an unclean drop counts one death for its first `slots` leases', () => {
    const s = makeScheduler();
    submit(s, 'j', 3);
    for (let round = 1; round <= 3; round++) {
      const id = `w${round}`;
      join(s, id, 1, round);
      // Lease order: task 0 (the oldest) was most likely running; 1 and 2 prefetched.
      expect(assigned(credit(s, id, 3, round)).map((t) => t.index)).toEqual([
        0, 1, 2,
      ]);
      const dropped = leave(s, id, false, round);
      expect(feeds(dropped).map((f) => f.text)).toContain(
        `worker ${id} dropped`,
      );
      if (round < 3) expect(records(dropped)).toEqual([]);
      else {
        expect(records(dropped)).toEqual([
          {
            type: 'record',
            jobId: 'j',
            index: 0,
            outcome: {
              ok: false,
              error: 'killed its worker 3 times; last: worker w3 dropped',
              code: 'E_TASK_KILLED_WORKERS',
            },
          },
        ]);
        expect(feeds(dropped)).toContainEqual({
          kind: 'reassigned',
          text: '2 tasks of worker w3 reassigned (worker dropped)',
        });
      }
    }
    expect(s.jobView('j')?.counts).toMatchObject({ queued: 2, failed: 1 });
  });

  test('expired leases of a worker that leaves are forgotten', () => {
    const s = makeScheduler({ leaseGraceMs: 0 });
    join(s, 'w1');
    submit(s, 'j', 1, { timeoutMs: 1_000 });
    credit(s, 'w1', 2, 0);
    // Lease 1 expires; the task goes to w1 again under lease 2.
    expect(assigned(tick(s, 1_000)).map((t) => t.lease)).toEqual([2]);
    leave(s, 'w1', true, 1_001);
    join(s, 'w1', 1, 1_002);
    // A new session under the same id holds nothing.
    expect(ofType(send(s, 'w1', [ok(1)], 1_003), 'reject-result')).toHaveLength(
      1,
    );
    expect(s.jobView('j')?.counts).toMatchObject({ queued: 1 });
  });

  test('a worker that leaves gets no cancels', () => {
    const s = makeScheduler({ leaseGraceMs: 0 });
    join(s, 'w1');
    join(s, 'w2');
    submit(s, 'j', 1, { timeoutMs: 1_000 });
    credit(s, 'w1', 1, 0);
    credit(s, 'w2', 1, 1_000);
    leave(s, 'w1', true, 1_001);
    expect(cancelled(send(s, 'w2', [ok(2)], 1_002))).toEqual({});
  });
});
