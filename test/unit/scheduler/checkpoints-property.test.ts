/**
 * Checkpoints under random events (fast-check): workers come and go, answer, send
 * checkpoints for any lease they were ever given (stale ones too), time passes, the job
 * may be cancelled. Whatever happens, a checkpoint is kept only for an open task from
 * the holder of its live lease, a dispatch resumes only from a kept one, a kept one is
 * dropped when its task is recorded, and every task is still recorded exactly once.
 */
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { Scheduler } from '../../../server/master/scheduler/scheduler.js';
import type {
  Command,
  SchedulerEvent,
} from '../../../server/master/scheduler/types.js';
import { unbranded, type Unbranded } from '../../helpers/ids.js';
import { jobSpec } from '../../helpers/scheduler.js';

/** Events as the test writes them: plain ids (../../helpers/ids.ts). */
type Event = Unbranded<SchedulerEvent>;
type Lease = number;

type Op =
  | { t: 'join' }
  | { t: 'leave'; w: number }
  | { t: 'credit'; w: number }
  | { t: 'answer'; w: number; pick: number }
  | { t: 'checkpoint'; w: number; pick: number }
  | { t: 'tick'; dt: number }
  | { t: 'cancel' };

const ix = fc.nat({ max: 20 });
const op: fc.Arbitrary<Op> = fc.oneof(
  { arbitrary: fc.record({ t: fc.constant('join') }), weight: 10 },
  { arbitrary: fc.record({ t: fc.constant('leave'), w: ix }), weight: 10 },
  { arbitrary: fc.record({ t: fc.constant('credit'), w: ix }), weight: 30 },
  {
    arbitrary: fc.record({ t: fc.constant('answer'), w: ix, pick: ix }),
    weight: 20,
  },
  {
    arbitrary: fc.record({ t: fc.constant('checkpoint'), w: ix, pick: ix }),
    weight: 60,
  },
  {
    arbitrary: fc.record({
      t: fc.constant('tick'),
      dt: fc.integer({ min: 0, max: 2_000 }),
    }),
    weight: 30,
  },
  { arbitrary: fc.record({ t: fc.constant('cancel') }), weight: 1 },
);

interface SimWorker {
  id: string;
  alive: boolean;
  /** Lease -> task index, for leases this worker was given and has not answered. */
  held: Map<Lease, number>;
  /** Every lease it was given, answered or not. */
  issued: Lease[];
}

class Sim {
  readonly s = unbranded(new Scheduler({ leaseGraceMs: 0 }));
  now = 0;
  readonly workers: SimWorker[] = [];
  /** Tasks with a kept checkpoint, as the store would hold them. */
  readonly kept = new Set<number>();
  readonly recorded = new Set<number>();
  /** Lease -> [holder, task index, when issued], for every lease issued. */
  readonly leases = new Map<Lease, [string, number, number]>();
  ended = false;
  resumes = 0;

  constructor(tasks: number) {
    this.handle({
      type: 'job-submitted',
      job: jobSpec('j', tasks, { timeoutMs: 3_000 }),
      at: 0,
    });
  }

  handle(event: Event): void {
    for (const c of this.s.handle(event)) this.check(c, event);
    this.s.checkInvariants();
    expect(this.s.jobView('j')?.checkpoints.tasks).toBe(this.kept.size);
  }

  check(c: Command, event: Event): void {
    switch (c.type) {
      case 'assign':
        for (const task of c.tasks) {
          const w = this.workers.find((x) => x.id === c.workerId);
          w?.held.set(task.lease, task.index);
          w?.issued.push(task.lease);
          this.leases.set(task.lease, [c.workerId, task.index, this.now]);
          // A dispatch resumes exactly when its task has a kept checkpoint.
          expect(task.resume === true).toBe(this.kept.has(task.index));
          if (task.resume) this.resumes++;
        }
        return;
      case 'save-checkpoint': {
        // Only from the holder of the lease quoted, for an open task of a running job.
        expect(event.type).toBe('checkpoint-received');
        if (event.type !== 'checkpoint-received') return;
        const [holder, index, issuedAt = -Infinity] =
          this.leases.get(event.lease) ?? [];
        expect(holder).toBe(event.workerId);
        expect(c.index).toBe(index);
        // Live: not answered, not cancelled, not expired (timeoutMs 3 000, no grace).
        const w = this.workers.find((x) => x.id === holder);
        expect(w?.held.has(event.lease)).toBe(true);
        expect(this.now - issuedAt).toBeLessThan(3_000);
        expect(this.recorded.has(c.index)).toBe(false);
        expect(this.ended).toBe(false);
        this.kept.add(c.index);
        return;
      }
      case 'cancel-leases': {
        const w = this.workers.find((x) => x.id === c.workerId);
        for (const lease of c.leases) w?.held.delete(lease);
        return;
      }
      case 'drop-checkpoints':
        if (c.index === undefined) this.kept.clear();
        else {
          expect(this.kept.has(c.index)).toBe(true);
          this.kept.delete(c.index);
        }
        return;
      case 'record':
        expect(this.recorded.has(c.index)).toBe(false);
        this.recorded.add(c.index);
        // Its checkpoint went in the same call, before anything could resume from it.
        return;
      case 'job-finished':
        this.ended = true;
        return;
      case 'reject-result':
      case 'disconnect':
      case 'credit':
      case 'feed':
        return;
    }
  }

  alive(k: number): SimWorker | undefined {
    const alive = this.workers.filter((w) => w.alive);
    return alive[k % Math.max(alive.length, 1)];
  }

  apply(o: Op): void {
    const at = this.now;
    switch (o.t) {
      case 'join': {
        const id = `w${this.workers.length}`;
        this.workers.push({ id, alive: true, held: new Map(), issued: [] });
        this.handle({
          type: 'worker-joined',
          ...{ workerId: id, kind: 'node', name: id, slots: 2 },
          resumes: true,
          at,
        });
        return;
      }
      case 'leave': {
        const w = this.alive(o.w);
        if (!w) return;
        w.alive = false;
        this.handle({ type: 'worker-left', workerId: w.id, clean: false, at });
        return;
      }
      case 'credit': {
        const w = this.alive(o.w);
        if (w)
          this.handle({
            type: 'credit-granted',
            workerId: w.id,
            credit: 2,
            at,
          });
        return;
      }
      case 'answer': {
        const w = this.alive(o.w);
        const lease =
          w && [...w.held.keys()][o.pick % Math.max(w.held.size, 1)];
        if (!w || lease === undefined) return;
        w.held.delete(lease);
        const results = [
          { lease, ok: true as const, output: 'o', digest: 'o' },
        ];
        this.handle({ type: 'results-received', workerId: w.id, results, at });
        return;
      }
      case 'checkpoint': {
        // Any lease it was ever given: live, expired, answered or cancelled.
        const w = this.alive(o.w);
        const lease = w?.issued[o.pick % Math.max(w.issued.length, 1)];
        if (!w || lease === undefined) return;
        this.handle({
          type: 'checkpoint-received',
          ...{ workerId: w.id, lease, bytes: 10, state: `${lease}` },
          at,
        });
        return;
      }
      case 'tick':
        this.now += o.dt;
        this.handle({ type: 'tick', at: this.now });
        return;
      case 'cancel':
        this.handle({ type: 'job-cancelled', jobId: 'j', at });
        return;
    }
  }

  /** A well-behaved worker finishes what is left. */
  drain(): void {
    const id = 'drainer';
    this.workers.push({ id, alive: true, held: new Map(), issued: [] });
    this.handle({
      type: 'worker-joined',
      ...{ workerId: id, kind: 'node', name: id, slots: 4 },
      resumes: true,
      at: this.now,
    });
    const w = this.workers.at(-1) as SimWorker;
    for (let round = 0; round < 1_000 && !this.ended; round++) {
      this.handle({
        type: 'credit-granted',
        workerId: id,
        credit: 4,
        at: this.now,
      });
      const results = [...w.held.keys()].map((lease) => ({
        lease,
        ok: true as const,
        output: 'o',
        digest: 'o',
      }));
      w.held.clear();
      if (results.length > 0)
        this.handle({
          type: 'results-received',
          workerId: id,
          results,
          at: this.now,
        });
      else {
        this.now += 10_000;
        this.handle({ type: 'tick', at: this.now });
      }
    }
  }
}

/** Runs in which some dispatch resumed: the property must not hold vacuously. */
let runsWithResumes = 0;

describe('checkpoints under random events', () => {
  test('are kept only from live leases of open tasks, resumed from exactly, dropped on record', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 12 }),
        fc.array(op, { minLength: 20, maxLength: 150 }),
        (tasks, ops) => {
          const sim = new Sim(tasks);
          for (const o of ops) sim.apply(o);
          sim.drain();
          expect(sim.ended).toBe(true);
          expect(sim.kept.size).toBe(0);
          const view = sim.s.jobView('j');
          if (view?.state === 'completed')
            expect(sim.recorded.size).toBe(tasks);
          expect(view?.checkpoints.resumed).toBe(sim.resumes);
          if (sim.resumes > 0) runsWithResumes++;
        },
      ),
      { numRuns: 200 },
    );
    expect(runsWithResumes).toBeGreaterThan(20);
  }, 60_000);
});
