/**
 * The master's scheduler: a pure state machine, `handle(event) → commands`.
 */
import { assertNever } from '../../../shared/errors.js';
import {
  creditGranted,
  expireDue,
  inputsAppended,
  jobCancelled,
  jobPurged,
  jobRestored,
  jobSealed,
  jobSubmitted,
  workerJoined,
  workerLeft,
} from './events.js';
import { dispatchBackups } from './backups.js';
import { receiveCheckpoint } from './checkpoints.js';
import { jobCompleted, tasksClaimed, tasksLost } from './cluster-events.js';
import { room } from './allowance.js';
import { checkInvariants } from './invariants.js';
import { dispatch } from './placement.js';
import type { JobRecord, WorkerRecord } from './records.js';
import { receiveResults } from './results.js';
import { State, resolveOptions } from './state.js';
import type {
  Command,
  JobId,
  JobView,
  Lease,
  LeaseInfo,
  SchedulerEvent,
  SchedulerOptions,
  WorkerId,
  WorkerView,
} from './types.js';

/**
 * All job, task, lease and worker state of the master. Mutate ONLY through
 * {@link Scheduler.handle}: it never reads the clock, sets timers or touches sockets;
 * time is the `at` of each event (cf. dask's `WorkerState`).
 *
 * Invariants ({@link Scheduler.checkInvariants}):
 * - every task is in exactly one of queued, running (≥ 1 active lease), done, failed,
 *   and each job's counts are the sums of those;
 * - each task gets at most one `record` command, ever; a lease is issued once and
 *   leases increase;
 * - every active lease is held by a connected worker and is due in the expiry queue;
 * - a job is in the fair-share heap exactly when it is running and has a queued task.
 *
 * Costs: a few bytes per task (typed arrays), one object per active lease and per
 * replicated task in flight; O(1) amortised per task dispatched or answered, plus
 * O(log jobs) for fair share.
 */
export class Scheduler {
  readonly #s: State;

  constructor(options: SchedulerOptions = {}) {
    this.#s = new State(resolveOptions(options));
  }

  /** Applies one event; returns what the shell must do, in order. */
  handle(event: SchedulerEvent): Command[] {
    const s = this.#s;
    // Time passes on every event, and never backwards.
    if (event.at > s.now) s.now = event.at;
    expireDue(s);
    switch (event.type) {
      case 'job-submitted':
        jobSubmitted(s, event);
        break;
      case 'job-restored':
        jobRestored(s, event);
        break;
      case 'inputs-appended':
        inputsAppended(s, event);
        break;
      case 'job-sealed':
        jobSealed(s, event);
        break;
      case 'job-cancelled':
        jobCancelled(s, event);
        break;
      case 'job-purged':
        jobPurged(s, event);
        break;
      case 'worker-joined':
        workerJoined(s, event);
        break;
      case 'worker-left':
        workerLeft(s, event);
        break;
      case 'credit-granted':
        creditGranted(s, event);
        break;
      case 'results-received': {
        const worker = s.workers.get(event.workerId);
        if (worker) receiveResults(s, worker, event.results);
        break;
      }
      case 'checkpoint-received': {
        const worker = s.workers.get(event.workerId);
        if (worker)
          receiveCheckpoint(s, worker, event.lease, event.bytes, event.state);
        break;
      }
      case 'tick':
        break;
      case 'tasks-claimed':
        tasksClaimed(s, event);
        break;
      case 'tasks-lost':
        tasksLost(s, event);
        break;
      case 'job-completed':
        jobCompleted(s, event);
        break;
      default:
        assertNever(event);
    }
    // Dispatch whenever anything may have changed; it is O(1) when nothing can move.
    dispatch(s);
    dispatchBackups(s);
    return s.out.take();
  }

  /** Earliest `at` at which a `tick` would change anything (a lease expiry, a backup copy due). */
  nextWakeAt(): number | undefined {
    const expiry = this.#s.expiry.nextAt();
    const backup = this.#s.backupWakeAt;
    if (backup === undefined) return expiry;
    return expiry === undefined ? backup : Math.min(expiry, backup);
  }

  /** Throws if the state is corrupted (a bug). For tests and debug builds: O(state). */
  checkInvariants(): void {
    checkInvariants(this.#s);
  }

  jobView(id: JobId): JobView | undefined {
    const job = this.#s.jobs.get(id);
    return job && jobView(job);
  }

  /**
   * What a `tasks` frame says of a job: read on every dispatch, so without the copies
   * a {@link jobView} makes.
   */
  jobWireFacts(
    id: JobId,
  ): { name: string; moduleHash: string; timeoutMs: number } | undefined {
    const spec = this.#s.jobs.get(id)?.spec;
    return (
      spec && {
        name: spec.name,
        moduleHash: spec.moduleHash,
        timeoutMs: spec.options.timeoutMs,
      }
    );
  }

  /** Every job, in submission order. */
  jobViews(): JobView[] {
    return [...this.#s.jobs.values()].map(jobView);
  }

  /**
   * One page of jobs, newest first: those submitted before the job `before` (all if
   * undefined), in `state` if given, at most `limit`; `total` counts every job in that
   * state. A cursor whose job was purged still works for ids that are numbers.
   */
  jobPage(query: {
    limit: number;
    before?: JobId | undefined;
    state?: JobView['state'] | undefined;
  }): { jobs: JobView[]; total: number } {
    const { limit, before, state } = query;
    const all = [...this.#s.jobs.values()];
    const cursor = before === undefined ? undefined : this.#s.jobs.get(before);
    const isBefore = (job: JobRecord): boolean =>
      before === undefined ||
      (cursor !== undefined
        ? job.seq < cursor.seq
        : Number(job.spec.id) < Number(before));
    const jobs: JobView[] = [];
    let total = 0;
    for (let k = all.length - 1; k >= 0; k--) {
      const job = all[k]!;
      if (state !== undefined && job.state !== state) continue;
      total++;
      if (jobs.length < limit && isBefore(job)) jobs.push(jobView(job));
    }
    return { jobs, total };
  }

  workerView(id: WorkerId): WorkerView | undefined {
    const worker = this.#s.workers.get(id);
    return worker && workerView(worker);
  }

  /** Every connected worker, in order of arrival. */
  /** Replica outputs that disagreed with an agreed output, since start (a metric). */
  get disagreements(): number {
    return this.#s.disagreements;
  }

  workerViews(): WorkerView[] {
    return [...this.#s.workers.values()].map(workerView);
  }

  jobName(id: JobId): string | undefined {
    return this.#s.jobs.get(id)?.spec.name;
  }

  /** Tasks of the job so far: the index the next appended input gets. */
  taskCount(id: JobId): number | undefined {
    return this.#s.jobs.get(id)?.spec.taskCount;
  }

  /**
   * The task and worker of an active lease; `undefined` for a lease that was never
   * issued, expired, or ended (answered, cancelled, its worker gone). A pure query.
   */
  leaseInfo(lease: Lease): LeaseInfo | undefined {
    const rec = this.#s.leases.get(lease);
    if (rec === undefined || !rec.isActive) return undefined;
    return {
      jobId: rec.job.spec.id,
      index: rec.index,
      workerId: rec.worker.id,
    };
  }

  /**
   * Tasks the workers could take beyond those queued here: their unused credit (within
   * their allowance and one round trip ahead) minus the queued tasks of running jobs
   * (cluster mode claims this many).
   */
  demand(): number {
    let credit = 0;
    // Each worker's credit, up to what it may be sent now and one more allowance (the
    // next round trip's): claims stay ahead of the workers (a claim is a database round
    // trip) without a socket that claims 100 000 drawing the shared queue here.
    for (const worker of this.#s.workers.values())
      credit += Math.min(worker.credit, room(worker) + worker.allowance);
    let queued = 0;
    for (const job of this.#s.jobs.values()) {
      if (job.isRunning) queued += job.table.counts.queued;
    }
    return credit - queued;
  }

  /** Active leases over all workers. */
  get activeLeases(): number {
    return this.#s.expiry.size;
  }
}

function jobView(job: JobRecord): JobView {
  const { counts, size } = job.table;
  return {
    spec: { ...job.spec, options: { ...job.spec.options } },
    state: job.state,
    finishedAt: job.finishedAt,
    counts: { total: size, ...counts },
    errors: job.errors.map((e) => ({ ...e })),
    backups: { issued: job.backupsIssued, won: job.backupsWon },
    checkpoints: {
      tasks: job.checkpointed?.size ?? 0,
      resumed: job.resumed,
    },
  };
}

function workerView(worker: WorkerRecord): WorkerView {
  return {
    id: worker.id,
    name: worker.name,
    kind: worker.kind,
    slots: worker.slots,
    inFlight: worker.active.size,
    done: worker.done,
    disagreed: worker.disagreed,
    volunteer: worker.volunteer.startsWith('worker:') ? '' : worker.volunteer,
    connectedAt: worker.connectedAt,
    ...(worker.sandbox ? { sandbox: worker.sandbox } : {}),
  };
}
