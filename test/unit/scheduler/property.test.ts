/**
 * Random event sequences: the invariants hold after every step, no task is recorded
 * twice, and once the dust settles every task of every sealed job that was not
 * cancelled has exactly one result.
 */
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { Scheduler } from '../../../server/master/scheduler/scheduler.js';
import type {
  Command,
  Lease,
  ReceivedResult,
  SchedulerEvent,
  SchedulerOptions,
} from '../../../server/master/scheduler/types.js';
import { unbranded, type Unbranded } from '../../helpers/ids.js';
import {
  acceptsInputs,
  jobSpec,
  type TestScheduler,
} from '../../helpers/scheduler.js';

type Op =
  | { t: 'join'; slots: number }
  | { t: 'leave'; w: number; clean: boolean }
  | { t: 'credit'; w: number; n: number }
  | { t: 'answer'; w: number; pick: number; outcome: Outcome; digest: number }
  | { t: 'late'; w: number; pick: number; outcome: Outcome }
  | { t: 'forge'; w: number; lease: number }
  | { t: 'steal'; w: number; from: number; pick: number }
  | {
      t: 'submit';
      tasks: number;
      sealed: boolean;
      replicas: number;
      maxAttempts: number;
      timeoutMs: number;
      priority: number;
    }
  | { t: 'append'; j: number; count: number }
  | { t: 'seal'; j: number }
  | { t: 'tick'; dt: number }
  | { t: 'cancel'; j: number }
  | { t: 'restart' };

type Outcome = 'ok' | 'error' | 'crash';

const outcome = fc.constantFrom<Outcome>('ok', 'ok', 'ok', 'error', 'crash');
const ix = fc.nat({ max: 50 });

const op: fc.Arbitrary<Op> = fc.oneof(
  {
    arbitrary: fc.record({
      t: fc.constant('join'),
      slots: fc.integer({ min: 1, max: 3 }),
    }),
    weight: 2,
  },
  {
    arbitrary: fc.record({
      t: fc.constant('leave'),
      w: ix,
      clean: fc.boolean(),
    }),
    weight: 1,
  },
  {
    arbitrary: fc.record({
      t: fc.constant('credit'),
      w: ix,
      n: fc.integer({ min: 1, max: 6 }),
    }),
    weight: 4,
  },
  {
    arbitrary: fc.record({
      t: fc.constant('answer'),
      w: ix,
      pick: ix,
      outcome,
      digest: fc.nat({ max: 1 }),
    }),
    weight: 8,
  },
  {
    arbitrary: fc.record({ t: fc.constant('late'), w: ix, pick: ix, outcome }),
    weight: 2,
  },
  {
    arbitrary: fc.record({
      t: fc.constant('forge'),
      w: ix,
      lease: fc.nat({ max: 200 }),
    }),
    weight: 1,
  },
  {
    arbitrary: fc.record({
      t: fc.constant('steal'),
      w: ix,
      from: ix,
      pick: ix,
    }),
    weight: 1,
  },
  {
    arbitrary: fc.record({
      t: fc.constant('submit'),
      tasks: fc.nat({ max: 12 }),
      sealed: fc.boolean(),
      replicas: fc.constantFrom(1, 1, 1, 2),
      maxAttempts: fc.integer({ min: 1, max: 3 }),
      timeoutMs: fc.constantFrom(50, 1_000, 3_000),
      priority: fc.nat({ max: 3 }),
    }),
    weight: 2,
  },
  {
    arbitrary: fc.record({
      t: fc.constant('append'),
      j: ix,
      count: fc.integer({ min: 1, max: 5 }),
    }),
    weight: 1,
  },
  { arbitrary: fc.record({ t: fc.constant('seal'), j: ix }), weight: 1 },
  {
    arbitrary: fc.record({
      t: fc.constant('tick'),
      dt: fc.integer({ min: 0, max: 4_000 }),
    }),
    weight: 3,
  },
  { arbitrary: fc.record({ t: fc.constant('cancel'), j: ix }), weight: 1 },
  { arbitrary: fc.record({ t: fc.constant('restart') }), weight: 1 },
);

interface SimWorker {
  id: string;
  alive: boolean;
  /** Leases assigned and neither answered nor cancelled. */
  held: Lease[];
  /** Every lease ever assigned to it. */
  issued: Lease[];
}

/** Drives a scheduler and checks every command it returns. */
class Sim {
  s: TestScheduler;
  now = 0;
  /**
   * The last lease given to each worker, and every lease given. Leases are new and rise
   * per worker; across workers a call's commands need not be in lease order (a worker's
   * later tasks of the same call join its first assign).
   */
  lastLease = new Map<string, number>();
  readonly leases = new Set<number>();
  readonly workers: SimWorker[] = [];
  readonly jobs: string[] = [];
  readonly taskCount = new Map<string, number>();
  readonly finished = new Map<string, 'completed' | 'cancelled'>();
  /** 1 done, 2 failed: what the store holds (TaskMark). */
  readonly recorded = new Map<string, number>();
  readonly options: SchedulerOptions;

  constructor(leaseGraceMs: number, maxWorkerDeaths: number) {
    this.options = { leaseGraceMs, maxWorkerDeaths };
    this.s = unbranded(new Scheduler(this.options));
  }

  handle(event: Unbranded<SchedulerEvent>): void {
    const commands = this.s.handle(event);
    this.check(commands);
    this.s.checkInvariants();
  }

  alive(k: number): SimWorker | undefined {
    const alive = this.workers.filter((w) => w.alive);
    return alive[k % Math.max(alive.length, 1)];
  }

  job(k: number): string | undefined {
    return this.jobs[k % Math.max(this.jobs.length, 1)];
  }

  result(
    lease: number,
    outcome: Outcome,
    digest: string,
  ): Unbranded<ReceivedResult> {
    if (outcome === 'ok') return { lease, ok: true, output: digest, digest };
    return { lease, ok: false, error: `${outcome} ${lease}`, kind: outcome };
  }

  check(commands: Command[]): void {
    const assignedTo = new Set<string>();
    for (const c of commands) {
      switch (c.type) {
        case 'assign': {
          expect(assignedTo.has(c.workerId)).toBe(false);
          assignedTo.add(c.workerId);
          const w = this.workers.find((x) => x.id === c.workerId && x.alive);
          expect(w).toBeDefined();
          expect(c.tasks.length).toBeGreaterThan(0);
          for (const task of c.tasks) {
            expect(task.lease).toBeGreaterThan(
              this.lastLease.get(c.workerId) ?? 0,
            );
            this.lastLease.set(c.workerId, task.lease);
            expect(this.leases.has(task.lease)).toBe(false);
            this.leases.add(task.lease);
            expect(this.finished.has(task.jobId)).toBe(false);
            expect(task.index).toBeLessThan(
              this.taskCount.get(task.jobId) ?? 0,
            );
            w?.held.push(task.lease);
            w?.issued.push(task.lease);
          }
          break;
        }
        case 'cancel-leases': {
          const w = this.workers.find((x) => x.id === c.workerId && x.alive);
          expect(w).toBeDefined();
          if (w) w.held = w.held.filter((l) => !c.leases.includes(l));
          break;
        }
        case 'record': {
          const key = `${c.jobId}/${c.index}`;
          expect(this.recorded.get(key) ?? 0).toBe(0);
          expect(this.finished.has(c.jobId)).toBe(false);
          this.recorded.set(key, c.outcome.ok ? 1 : 2);
          break;
        }
        case 'job-finished':
          expect(this.finished.has(c.jobId)).toBe(false);
          this.finished.set(c.jobId, c.state);
          break;
        case 'reject-result':
        case 'disconnect':
        case 'feed':
        case 'save-checkpoint':
        case 'drop-checkpoints':
        case 'credit':
          break;
      }
    }
  }

  apply(o: Op): void {
    const at = this.now;
    switch (o.t) {
      case 'join': {
        const id = `w${this.workers.length}`;
        this.workers.push({ id, alive: true, held: [], issued: [] });
        this.handle({
          type: 'worker-joined',
          workerId: id,
          kind: 'node',
          name: id,
          slots: o.slots,
          at,
        });
        break;
      }
      case 'leave': {
        const w = this.alive(o.w);
        if (!w) return;
        w.alive = false;
        this.handle({
          type: 'worker-left',
          workerId: w.id,
          clean: o.clean,
          at,
        });
        break;
      }
      case 'credit': {
        const w = this.alive(o.w);
        if (w)
          this.handle({
            type: 'credit-granted',
            workerId: w.id,
            credit: o.n,
            at,
          });
        break;
      }
      case 'answer': {
        const w = this.alive(o.w);
        if (!w || w.held.length === 0) return;
        const [lease] = w.held.splice(o.pick % w.held.length, 1);
        if (lease === undefined) return;
        const results = [this.result(lease, o.outcome, `d${o.digest}`)];
        this.handle({ type: 'results-received', workerId: w.id, results, at });
        break;
      }
      case 'late': {
        const w = this.alive(o.w);
        const lease = w?.issued[o.pick % Math.max(w.issued.length, 1)];
        if (!w || lease === undefined) return;
        const results = [this.result(lease, o.outcome, 'd0')];
        this.handle({ type: 'results-received', workerId: w.id, results, at });
        break;
      }
      case 'forge': {
        const w = this.alive(o.w);
        if (!w) return;
        const results = [this.result(o.lease, 'ok', 'forged')];
        this.handle({ type: 'results-received', workerId: w.id, results, at });
        break;
      }
      case 'steal': {
        const thief = this.alive(o.w);
        const victim = this.alive(o.from);
        const lease = victim?.held[o.pick % Math.max(victim.held.length, 1)];
        if (!thief || !victim || thief === victim || lease === undefined)
          return;
        const before = this.s.jobViews();
        const commands = this.s.handle({
          type: 'results-received',
          workerId: thief.id,
          results: [this.result(lease, 'ok', 'stolen')],
          at,
        });
        // A forged result changes nothing but time.
        expect(commands.some((c) => c.type === 'reject-result')).toBe(true);
        expect(commands.some((c) => c.type === 'record')).toBe(false);
        if (!commands.some((c) => c.type === 'feed')) {
          expect(this.s.jobViews()).toEqual(before);
        }
        this.check(commands);
        this.s.checkInvariants();
        break;
      }
      case 'submit': {
        const id = `j${this.jobs.length}`;
        this.jobs.push(id);
        this.taskCount.set(id, o.tasks);
        const { tasks, sealed, replicas, maxAttempts, timeoutMs, priority } = o;
        const job = jobSpec(id, tasks, {
          sealed,
          replicas,
          maxAttempts,
          timeoutMs,
          priority,
        });
        this.handle({ type: 'job-submitted', job, at });
        break;
      }
      case 'append': {
        const id = this.job(o.j);
        if (!id || !acceptsInputs(this.s, id)) return;
        this.taskCount.set(id, (this.taskCount.get(id) ?? 0) + o.count);
        this.handle({ type: 'inputs-appended', jobId: id, count: o.count, at });
        break;
      }
      case 'seal': {
        const id = this.job(o.j);
        if (id) this.handle({ type: 'job-sealed', jobId: id, at });
        break;
      }
      case 'tick':
        this.now += o.dt;
        this.handle({ type: 'tick', at: this.now });
        break;
      case 'restart':
        this.restart();
        break;
      case 'cancel': {
        const id = this.job(o.j);
        if (id) this.handle({ type: 'job-cancelled', jobId: id, at });
        break;
      }
    }
  }

  /** The master restarts: jobs come back from the store, workers must reconnect. */
  restart(): void {
    const views = this.s.jobViews();
    this.s = unbranded(new Scheduler(this.options));
    // A new master counts leases afresh; its workers are new sessions.
    this.lastLease.clear();
    this.leases.clear();
    for (const w of this.workers) w.alive = false;
    for (const view of views) {
      const marks = Uint8Array.from(
        { length: view.spec.taskCount },
        (_, i) => this.recorded.get(`${view.spec.id}/${i}`) ?? 0,
      );
      this.handle({
        type: 'job-restored',
        job: view.spec,
        state: view.state,
        finishedAt: view.finishedAt,
        marks,
        at: this.now,
      });
      expect(this.s.jobView(view.spec.id)?.counts).toMatchObject({
        done: view.counts.done,
        failed: view.counts.failed,
      });
    }
  }

  /** Seals everything, then lets two well-behaved workers finish the work. */
  drain(): void {
    for (const id of this.jobs)
      this.handle({ type: 'job-sealed', jobId: id, at: this.now });
    // Two, so that replicated tasks can reach agreement.
    const drainers: SimWorker[] = [];
    for (const id of ['d0', 'd1']) {
      const w: SimWorker = { id, alive: true, held: [], issued: [] };
      this.workers.push(w);
      drainers.push(w);
      this.handle({
        type: 'worker-joined',
        workerId: id,
        kind: 'node',
        name: id,
        slots: 4,
        at: this.now,
      });
    }
    for (let round = 0; round < 100 && !this.allFinished(); round++) {
      for (const w of drainers) {
        this.handle({
          type: 'credit-granted',
          workerId: w.id,
          credit: 50,
          at: this.now,
        });
      }
      for (let busy = true; busy;) {
        busy = false;
        for (const w of drainers) {
          if (w.held.length === 0) continue;
          busy = true;
          const results = w.held.map((l) => this.result(l, 'ok', 'agreed'));
          w.held = [];
          this.handle({
            type: 'results-received',
            workerId: w.id,
            results,
            at: this.now,
          });
          this.handle({
            type: 'credit-granted',
            workerId: w.id,
            credit: results.length,
            at: this.now,
          });
        }
      }
      // Past every lease: whatever the others still hold comes back.
      this.now += 10_000;
      this.handle({ type: 'tick', at: this.now });
    }
  }

  allFinished(): boolean {
    return this.jobs.every((id) => this.finished.has(id));
  }
}

describe('scheduler under random events', () => {
  test('keeps its invariants and records every task exactly once', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 1_000 }),
        fc.integer({ min: 1, max: 3 }),
        fc.array(op, { minLength: 20, maxLength: 100, size: 'max' }),
        (grace, deaths, ops) => {
          const sim = new Sim(grace, deaths);
          for (const o of ops) sim.apply(o);
          sim.drain();
          for (const id of sim.jobs) {
            const view = sim.s.jobView(id);
            expect(view).toBeDefined();
            expect(sim.finished.has(id)).toBe(true);
            expect(view?.state).toBe(sim.finished.get(id));
            if (view?.state !== 'completed') continue;
            const n = sim.taskCount.get(id) ?? 0;
            expect(view.counts.total).toBe(n);
            expect(view.counts.done + view.counts.failed).toBe(n);
            for (let i = 0; i < n; i++) {
              expect(sim.recorded.has(`${id}/${i}`)).toBe(true);
            }
          }
        },
      ),
      { numRuns: 200 },
    );
    // Generous: a few seconds alone, more on a loaded machine.
  }, 60_000);
});
