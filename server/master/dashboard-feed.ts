/**
 * Live state for dashboards and the API: rates, the throughput history, the event feed,
 * and the snapshot-then-deltas stream. Deltas go out at a fixed cadence with only what
 * changed, encoded once for all subscribers, so the cost stays flat as load grows.
 */
import type { WebSocket } from 'ws';
import type {
  Delta,
  JobId,
  Lease,
  WorkerId,
  FeedEvent,
  JobSummary,
  Snapshot,
  ThroughputPoint,
  WorkerSummary,
} from '../../shared/protocol.js';
import type { LeaseProgress, Runtime } from './runtime.js';
import type { JobView, WorkerView } from './scheduler/types.js';

const SAMPLE_MS = 1_000;
const RATE_WINDOW_SAMPLES = 5;
const HISTORY_POINTS = 600;
const FEED_LENGTH = 200;
const SNAPSHOT_JOBS = 200;
/** A dashboard further behind than this skips deltas and gets a fresh snapshot later. */
const LAGGING_BYTES = 1 << 20;
const DROP_BYTES = 16 << 20;

/** The latest progress of an active lease. */
interface ProgressEntry {
  jobId: JobId;
  index: number;
  fraction: number;
}

interface Subscriber {
  socket: WebSocket;
  needsSnapshot: boolean;
}

/**
 * Cluster mode: what the dashboard shows of the whole fleet (jobs from the shared store,
 * workers of the other live masters) in place of, or next to, this master's scheduler.
 */
export interface FleetView {
  jobViews(): JobView[];
  jobView(id: JobId): JobView | undefined;
  remoteWorkers(): WorkerView[];
  remoteWorker(id: WorkerId): WorkerView | undefined;
}

export class DashboardFeed {
  #runtime: Runtime;
  #subscribers = new Map<WebSocket, Subscriber>();
  #events: FeedEvent[] = [];
  #pendingEvents: FeedEvent[] = [];
  #history: ThroughputPoint[] = [];
  /** finished-task counts per job / per worker at each of the last samples */
  #jobSamples = new Map<JobId, number[]>();
  #workerSamples = new Map<WorkerId, number[]>();
  #totalSamples: number[] = [];
  #rates = new Map<JobId, number>();
  #workerRates = new Map<WorkerId, number>();
  #knownWorkers = new Set<WorkerId>();
  /**
   * Latest `progress` of active leases. Entries of leases that ended are forgotten at
   * publish time (and whenever the map outgrows the active leases): bounded by them.
   */
  #progress = new Map<Lease, ProgressEntry>();
  /**
   * Sum of the fractions of each job's running tasks; null: to be computed again. Valid
   * for one synchronous turn (a snapshot, a delta, an API answer): leases end between
   * turns, and a finished task's fraction must never count next to its result.
   */
  #partials: Map<JobId, number> | null = null;
  #sampleTimer: NodeJS.Timeout;
  #publishTimer: NodeJS.Timeout;

  #fleet: FleetView | undefined;

  constructor(
    runtime: Runtime,
    options: { publishMs: number; fleet?: FleetView },
  ) {
    this.#runtime = runtime;
    this.#fleet = options.fleet;
    runtime.on('feed', (event: FeedEvent) => {
      this.#events.push(event);
      if (this.#events.length > FEED_LENGTH) this.#events.shift();
      this.#pendingEvents.push(event);
      if (this.#pendingEvents.length > FEED_LENGTH) this.#pendingEvents.shift();
    });
    runtime.on('progress', (p: LeaseProgress) =>
      this.progress(p.lease, p.jobId, p.index, p.fraction),
    );
    this.#sampleTimer = setInterval(() => this.#sample(), SAMPLE_MS);
    this.#sampleTimer.unref();
    this.#publishTimer = setInterval(() => this.#publish(), options.publishMs);
    this.#publishTimer.unref();
  }

  subscribe(socket: WebSocket): void {
    const subscriber: Subscriber = { socket, needsSnapshot: true };
    this.#subscribers.set(socket, subscriber);
    this.#sendSnapshot(subscriber);
  }

  unsubscribe(socket: WebSocket): void {
    this.#subscribers.delete(socket);
  }

  /**
   * Records the progress of an active lease (the runtime checked that the sending
   * worker holds it). Its job is published with the next delta.
   */
  progress(lease: Lease, jobId: JobId, index: number, fraction: number): void {
    const entry = this.#progress.get(lease);
    if (entry) {
      if (entry.fraction === fraction) return;
      entry.fraction = fraction;
    } else {
      this.#progress.set(lease, { jobId, index, fraction });
      // Many leases that ended since the last publish: forget them now.
      if (this.#progress.size > 2 * this.#runtime.scheduler.activeLeases + 64)
        this.#forgetEnded();
    }
    this.#partials = null;
    this.#runtime.dirtyJobs.add(jobId);
  }

  /** Drops the progress of leases that are no longer active. */
  #forgetEnded(): void {
    const { scheduler } = this.#runtime;
    for (const [lease, entry] of this.#progress) {
      if (scheduler.leaseInfo(lease) === undefined) {
        this.#progress.delete(lease);
        this.#partials = null;
        this.#runtime.dirtyJobs.add(entry.jobId);
      }
    }
  }

  /** Sum of the latest fractions of the job's running tasks (a task's best replica). */
  #partial(jobId: JobId): number {
    if (this.#progress.size === 0) return 0;
    if (this.#partials === null) {
      this.#forgetEnded();
      const best = new Map<JobId, Map<number, number>>();
      for (const { jobId: job, index, fraction } of this.#progress.values()) {
        let tasks = best.get(job);
        if (!tasks) {
          tasks = new Map();
          best.set(job, tasks);
        }
        tasks.set(index, Math.max(fraction, tasks.get(index) ?? 0));
      }
      const partials = new Map<JobId, number>();
      for (const [job, tasks] of best) {
        let sum = 0;
        for (const fraction of tasks.values()) sum += fraction;
        partials.set(job, sum);
      }
      this.#partials = partials;
      queueMicrotask(() => {
        if (this.#partials === partials) this.#partials = null;
      });
    }
    return this.#partials.get(jobId) ?? 0;
  }

  jobSummary(view: JobView): JobSummary {
    return {
      id: view.spec.id,
      name: view.spec.name,
      ...(view.spec.description ? { description: view.spec.description } : {}),
      state: view.state,
      sealed: view.spec.sealed,
      priority: view.spec.options.priority,
      counts: view.counts,
      rate: this.#rates.get(view.spec.id) ?? 0,
      partial: Math.min(view.counts.running, this.#partial(view.spec.id)),
      createdAt: view.spec.createdAt,
      finishedAt: view.finishedAt,
      errors: view.errors,
      backups: view.backups,
      checkpoints: view.checkpoints,
    };
  }

  workerSummary(view: WorkerView): WorkerSummary {
    return { ...view, rate: this.#workerRates.get(view.id) ?? 0 };
  }

  /** Finished tasks per second over the last seconds, all jobs together. */
  get totalRate(): number {
    return this.#history.at(-1)?.rate ?? 0;
  }

  #sample(): void {
    const { scheduler } = this.#runtime;
    const at = this.#runtime.now();
    const jobs = scheduler.jobViews();
    if (jobs.length < this.#jobSamples.size) {
      // Purged jobs leave their samples behind: forget them.
      const live = new Set(jobs.map((view) => view.spec.id));
      for (const id of this.#jobSamples.keys()) {
        if (live.has(id)) continue;
        this.#jobSamples.delete(id);
        this.#rates.delete(id);
      }
    }
    for (const view of jobs) {
      const finished = view.counts.done + view.counts.failed;
      const rate = pushSample(this.#jobSamples, view.spec.id, finished);
      if (rate !== (this.#rates.get(view.spec.id) ?? 0))
        this.#runtime.dirtyJobs.add(view.spec.id);
      this.#rates.set(view.spec.id, rate);
    }
    const seen = new Set<WorkerId>();
    for (const view of scheduler.workerViews()) {
      seen.add(view.id);
      const rate = pushSample(this.#workerSamples, view.id, view.done);
      if (rate !== (this.#workerRates.get(view.id) ?? 0))
        this.#runtime.dirtyWorkers.add(view.id);
      this.#workerRates.set(view.id, rate);
    }
    for (const id of this.#workerSamples.keys()) {
      if (!seen.has(id)) {
        this.#workerSamples.delete(id);
        this.#workerRates.delete(id);
      }
    }
    const counters = this.#runtime.counters;
    this.#totalSamples.push(counters.recordedOk + counters.recordedFailed);
    if (this.#totalSamples.length > RATE_WINDOW_SAMPLES + 1)
      this.#totalSamples.shift();
    this.#history.push({ at, rate: rateOf(this.#totalSamples) });
    if (this.#history.length > HISTORY_POINTS) this.#history.shift();
  }

  /** Every running job, and the latest ended ones (single master). */
  #localJobs(): JobView[] {
    const { scheduler } = this.#runtime;
    // Every running job, and the latest ended ones: older ones page in through the
    // API (`GET /api/jobs?before=ID`), so the snapshot stays small however many ended.
    const running = scheduler.jobPage({
      limit: SNAPSHOT_JOBS,
      state: 'running',
    }).jobs;
    const ended = scheduler
      .jobPage({ limit: SNAPSHOT_JOBS + running.length })
      .jobs.filter((view) => view.state !== 'running')
      .slice(0, SNAPSHOT_JOBS);
    return [...running, ...ended].sort(
      (a, b) =>
        a.spec.createdAt - b.spec.createdAt ||
        Number(a.spec.id) - Number(b.spec.id),
    );
  }

  #snapshot(): Snapshot {
    const { scheduler } = this.#runtime;
    const jobs = (
      this.#fleet?.jobViews().slice(-SNAPSHOT_JOBS) ?? this.#localJobs()
    ).map((view) => this.jobSummary(view));
    return {
      type: 'snapshot',
      at: this.#runtime.now(),
      jobs,
      workers: [
        ...scheduler.workerViews(),
        ...(this.#fleet?.remoteWorkers() ?? []),
      ].map((view) => this.workerSummary(view)),
      events: [...this.#events],
      throughput: [...this.#history],
    };
  }

  #sendSnapshot(subscriber: Subscriber): void {
    subscriber.needsSnapshot = false;
    safeSend(subscriber.socket, JSON.stringify(this.#snapshot()));
  }

  #publish(): void {
    const runtime = this.#runtime;
    if (this.#progress.size > 0) {
      // Leases that ended since the last publish no longer count towards `partial`.
      this.#forgetEnded();
    }
    if (this.#subscribers.size === 0) {
      runtime.dirtyJobs.clear();
      runtime.dirtyWorkers.clear();
      this.#pendingEvents = [];
      this.#knownWorkers = new Set(
        runtime.scheduler.workerViews().map((w) => w.id),
      );
      return;
    }
    const jobs: JobSummary[] = [];
    const removedJobs: JobId[] = [];
    for (const id of runtime.dirtyJobs) {
      // A dirty job neither the fleet nor the scheduler knows was purged.
      const view = this.#fleet?.jobView(id) ?? runtime.scheduler.jobView(id);
      if (view) jobs.push(this.jobSummary(view));
      else removedJobs.push(id);
    }
    const workers: WorkerSummary[] = [];
    const removedWorkers: WorkerId[] = [];
    for (const id of runtime.dirtyWorkers) {
      const view =
        runtime.scheduler.workerView(id) ?? this.#fleet?.remoteWorker(id);
      if (view) {
        workers.push(this.workerSummary(view));
        this.#knownWorkers.add(id);
      } else if (this.#knownWorkers.delete(id)) {
        removedWorkers.push(id);
      }
    }
    runtime.dirtyJobs.clear();
    runtime.dirtyWorkers.clear();
    const events = this.#pendingEvents;
    this.#pendingEvents = [];
    const delta: Delta = {
      type: 'delta',
      at: runtime.now(),
      jobs,
      workers,
      removedWorkers,
      ...(removedJobs.length > 0 ? { removedJobs } : {}),
      events,
      throughput: this.#history.at(-1) ?? { at: runtime.now(), rate: 0 },
    };
    const text = JSON.stringify(delta);
    for (const subscriber of this.#subscribers.values()) {
      const buffered = subscriber.socket.bufferedAmount;
      if (buffered > DROP_BYTES) {
        subscriber.socket.terminate();
        this.#subscribers.delete(subscriber.socket);
      } else if (buffered > LAGGING_BYTES) {
        subscriber.needsSnapshot = true;
      } else if (subscriber.needsSnapshot) {
        this.#sendSnapshot(subscriber);
      } else {
        safeSend(subscriber.socket, text);
      }
    }
  }

  close(): void {
    clearInterval(this.#sampleTimer);
    clearInterval(this.#publishTimer);
  }
}

function safeSend(socket: WebSocket, text: string): void {
  if (socket.readyState === socket.OPEN) socket.send(text);
}

function pushSample<Id extends string>(
  samples: Map<Id, number[]>,
  id: Id,
  value: number,
): number {
  let list = samples.get(id);
  if (!list) {
    list = [];
    samples.set(id, list);
  }
  list.push(value);
  if (list.length > RATE_WINDOW_SAMPLES + 1) list.shift();
  return rateOf(list);
}

function rateOf(samples: readonly number[]): number {
  if (samples.length < 2) return 0;
  const first = samples[0] as number;
  const last = samples[samples.length - 1] as number;
  return Math.max(
    0,
    (last - first) / (((samples.length - 1) * SAMPLE_MS) / 1000),
  );
}
