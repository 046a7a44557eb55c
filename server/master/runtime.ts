/**
 * The shell around the pure scheduler: owns the clock and the one wake-up timer, feeds
 * events in, and carries the commands out to the store, the sockets and the dashboard.
 * It is the one owner of "after commit": readers of results are woken, and workers'
 * results acked, only once the store has committed them.
 */
import { EventEmitter } from 'node:events';
import type { Logger } from '../log.js';
import { assertNever } from '../../shared/errors.js';
import type { FeedEvent, Results } from '../../shared/protocol.js';
import { AfterCommit } from './after-commit.js';
import { toReceivedResults } from './result-intake.js';
import { Scheduler } from './scheduler/scheduler.js';
import type {
  Command,
  JobId,
  Lease,
  SchedulerEvent,
  SchedulerOptions,
  WorkerId,
} from './scheduler/types.js';
import type { EncodedValue, Store, StoredOutcome } from './store/store.js';
import { collectDispatchBatch } from './dispatch-batch.js';
import { encodeStored } from './store/value-codec.js';
import { Standings } from './standings.js';
import type {
  Clock,
  LeaseProgress,
  RuntimeCounters,
  WorkerLink,
} from './runtime-types.js';

export type {
  Clock,
  LeaseProgress,
  RuntimeCounters,
  WorkerLink,
} from './runtime-types.js';

/** Bytes of a stored value (UTF-8 for JSON text). */
function storedBytes(value: EncodedValue): number {
  return typeof value === 'string'
    ? Buffer.byteLength(value, 'utf8')
    : value.byteLength;
}

/**
 * Emits 'results' (jobId) after results of a job were committed, 'job-finished' (jobId)
 * after a job's end was committed, 'job-purged' (jobId) once the scheduler forgot a job, 'feed' (FeedEvent) for the dashboard's event list, and
 * 'progress' (LeaseProgress).
 */
export class Runtime extends EventEmitter {
  readonly scheduler: Scheduler;
  readonly store: Store;
  readonly counters: RuntimeCounters = {
    recordedOk: 0,
    recordedFailed: 0,
    reassigned: 0,
    creditedTasks: { node: 0, browser: 0 },
    creditedBusyMs: { node: 0, browser: 0 },
  };
  /** Jobs and workers changed since the dashboard last looked. */
  readonly dirtyJobs = new Set<JobId>();
  readonly dirtyWorkers = new Set<WorkerId>();
  #link: WorkerLink | null = null;
  #clock: Clock;
  #log: Logger;
  #timer: NodeJS.Timeout | null = null;
  #timerAt = Infinity;
  /** Acks and wake-ups waiting for the store's commit. */
  readonly #afterCommit: AfterCommit;
  #closed = false;
  readonly #standings: Standings;
  /** Jobs whose end (and so every result before it) is committed. */
  #finishedDurably = new Set<JobId>();
  /**
   * The job whose result the current dispatch recorded last: a batch's results mostly
   * share one job, marked dirty and pending once rather than per result.
   */
  #recordedJob: JobId | undefined = undefined;

  constructor(options: {
    store: Store;
    clock: Clock;
    logger: Logger;
    scheduler?: SchedulerOptions;
    /** Least time between two `standing` frames to one volunteer. @defaultValue 2 000 */
    standingMs?: number;
  }) {
    super();
    this.setMaxListeners(0);
    this.store = options.store;
    this.#clock = options.clock;
    this.#log = options.logger;
    this.scheduler = new Scheduler(options.scheduler ?? {});
    this.#afterCommit = new AfterCommit({
      store: this.store,
      logger: this.#log,
      ack: (workerId, count) => this.#link?.sendAck(workerId, count),
      committed: (results, finished) => {
        for (const jobId of results) this.emit('results', jobId);
        for (const jobId of finished) {
          this.#finishedDurably.add(jobId);
          this.emit('job-finished', jobId);
        }
      },
    });
    this.#standings = new Standings({
      ledger: this.store.volunteers,
      commit: () => this.store.commit(),
      send: (workerId, standing) =>
        this.#link?.sendStanding?.(workerId, standing),
      logger: this.#log,
      ...(options.standingMs === undefined
        ? {}
        : { intervalMs: options.standingMs }),
    });
  }

  attach(link: WorkerLink): void {
    this.#link = link;
  }

  now(): number {
    return this.#clock.now();
  }

  /**
   * True once the job's end is committed: a reader that then finds no more results in
   * the store has them all. (The scheduler knows of the end before the commit.)
   */
  isFinishedDurably(jobId: JobId): boolean {
    return this.#finishedDurably.has(jobId);
  }

  /** Feeds one event to the scheduler and carries out what it decides. */
  dispatch(event: SchedulerEvent): void {
    if (this.#closed) return;
    if (event.type === 'job-restored' && event.state !== 'running') {
      this.#finishedDurably.add(event.job.id);
    }
    this.#markDirty(event);
    this.#recordedJob = undefined;
    const commands = this.scheduler.handle(event);
    for (const command of commands) this.#execute(command);
    this.#noteVolunteer(event);
    if (event.type === 'job-purged' && !this.scheduler.jobView(event.jobId)) {
      this.#finishedDurably.delete(event.jobId);
      this.emit('job-purged', event.jobId);
    }
    this.#afterCommit.commitAndNotify();
    // What the next dispatch records goes to the next commit's pending set.
    this.#recordedJob = undefined;
    this.#arm();
  }

  /**
   * A worker's `results` frame: its results (and the credit riding on it) go to the
   * scheduler; the ack follows once the store has committed them. Frames that share a
   * commit share one ack.
   */
  receiveResults(
    workerId: WorkerId,
    message: Results,
    isBinary: boolean,
    storedOutputs?: readonly string[],
  ): void {
    if (this.#closed) return;
    const results = toReceivedResults(message, isBinary, storedOutputs);
    this.dispatch({
      type: 'results-received',
      workerId,
      results,
      at: this.now(),
    });
    this.#afterCommit.ack(workerId, results.length);
    if (message.credit) {
      this.dispatch({
        type: 'credit-granted',
        workerId,
        credit: message.credit,
        at: this.now(),
      });
    }
  }

  /**
   * Advisory progress of a lease: passed on only while the sender holds the lease (a
   * lease that ended or moved is a normal race, ignored).
   */
  receiveProgress(workerId: WorkerId, lease: Lease, fraction: number): void {
    const info = this.scheduler.leaseInfo(lease);
    if (info?.workerId !== workerId) return;
    const progress: LeaseProgress = {
      lease,
      jobId: info.jobId,
      index: info.index,
      fraction,
    };
    this.emit('progress', progress);
  }

  /**
   * A task's checkpoint: encoded as the store keeps it, then fenced by the scheduler
   * (only the holder of a live lease may save one); kept if it says so.
   */
  receiveCheckpoint(
    workerId: WorkerId,
    lease: Lease,
    state: unknown,
    isBinary: boolean,
  ): void {
    if (this.#closed) return;
    let stored: EncodedValue;
    try {
      stored = isBinary ? encodeStored(state) : JSON.stringify(state);
    } catch {
      return; // a text frame's JSON always re-encodes; this is for odd binary ones
    }
    this.dispatch({
      type: 'checkpoint-received',
      workerId,
      lease,
      bytes: storedBytes(stored),
      state: stored,
      at: this.now(),
    });
  }

  /** A volunteer's arrival is kept (first and last seen, name, kind). */
  #noteVolunteer(event: SchedulerEvent): void {
    if (event.type === 'worker-left') this.#standings.left(event.workerId);
    if (event.type !== 'worker-joined' || !event.volunteer) return;
    const { workerId, volunteer: id, name, kind, at } = event;
    this.store.volunteers.seen({ id, name, kind }, at);
    if (event.wantsStanding) this.#standings.joined(workerId, id);
  }

  #markDirty(event: SchedulerEvent): void {
    switch (event.type) {
      case 'job-submitted':
      case 'job-restored':
        this.dirtyJobs.add(event.job.id);
        return;
      case 'inputs-appended':
      case 'job-sealed':
      case 'job-cancelled':
      case 'job-purged':
      case 'tasks-lost':
      case 'job-completed':
        this.dirtyJobs.add(event.jobId);
        return;
      case 'tasks-claimed':
        this.dirtyJobs.add(event.job.id);
        return;
      case 'worker-joined':
      case 'worker-left':
      case 'credit-granted':
      case 'results-received':
      case 'checkpoint-received':
        this.dirtyWorkers.add(event.workerId);
        return;
      case 'tick':
        return;
      default:
        assertNever(event);
    }
  }

  #execute(command: Command): void {
    const link = this.#link;
    switch (command.type) {
      case 'assign': {
        this.dirtyWorkers.add(command.workerId);
        let last: JobId | undefined;
        for (const task of command.tasks) {
          if (task.jobId === last) continue;
          last = task.jobId;
          this.dirtyJobs.add(last);
        }
        link?.sendTasks(
          command.workerId,
          collectDispatchBatch(command.tasks, this.scheduler, this.store),
        );
        return;
      }
      case 'cancel-leases':
        link?.sendCancel(command.workerId, command.leases);
        return;
      case 'reject-result':
        link?.sendReject(
          command.workerId,
          command.lease,
          command.code,
          command.message,
        );
        return;
      case 'disconnect':
        link?.disconnect(command.workerId, command.code, command.reason);
        return;
      case 'credit':
        this.store.volunteers.credit(command.credits, this.now());
        for (const { kind, tasks, busyMs } of command.credits) {
          this.counters.creditedTasks[kind] += tasks;
          this.counters.creditedBusyMs[kind] += busyMs;
        }
        this.#standings.credited(command.credits);
        return;
      case 'record': {
        const { outcome } = command;
        if (outcome.ok) this.counters.recordedOk++;
        else this.counters.recordedFailed++;
        // The scheduler's outcome is the store's as it is: its output is the stored
        // form the intake made (result-intake.ts), and the store copies what it keeps.
        this.store.recordResult(
          command.jobId,
          command.index,
          outcome as StoredOutcome,
        );
        if (command.jobId !== this.#recordedJob) {
          this.#recordedJob = command.jobId;
          this.dirtyJobs.add(command.jobId);
          this.#afterCommit.recorded(command.jobId);
        }
        return;
      }
      case 'job-finished':
        this.store.finishJob(command.jobId, command.state, command.at);
        this.dirtyJobs.add(command.jobId);
        this.#afterCommit.finished(command.jobId);
        this.#log.info(
          { jobId: command.jobId, state: command.state },
          'job finished',
        );
        return;
      case 'save-checkpoint':
        this.store.putCheckpoint(
          command.jobId,
          command.index,
          command.state as EncodedValue,
        );
        this.dirtyJobs.add(command.jobId);
        return;
      case 'drop-checkpoints':
        this.store.dropCheckpoints(command.jobId, command.index);
        this.dirtyJobs.add(command.jobId);
        return;
      case 'feed':
        if (command.event.kind === 'reassigned') this.counters.reassigned++;
        this.emit('feed', command.event satisfies FeedEvent);
        return;
      default:
        assertNever(command);
    }
  }

  /** Keeps exactly one timer, armed for the scheduler's next deadline. */
  #arm(): void {
    const next = this.scheduler.nextWakeAt();
    // Nothing due: a timer still armed is left to fire (its tick finds nothing to do and
    // re-arms). At credit 1 every result ends the only lease before the next is issued,
    // and clearing here would cost a clearTimeout and a setTimeout per round trip.
    if (next === undefined) return;
    if (this.#timer && next >= this.#timerAt) return;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timerAt = next;
    const delay = Math.max(0, next - this.now());
    this.#timer = setTimeout(() => {
      this.#timer = null;
      this.#timerAt = Infinity;
      this.dispatch({ type: 'tick', at: this.now() });
    }, delay);
    this.#timer.unref();
  }

  /** Stops the timer; later events are ignored. */
  close(): void {
    this.#closed = true;
    this.#standings.close();
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
  }
}
