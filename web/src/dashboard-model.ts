/**
 * The dashboard's picture of the master, built from one `snapshot` and then `delta`s.
 * Mutate it only through {@link DashboardModel.reset} and {@link DashboardModel.apply};
 * each bumps `version`, which components use to memoise derived views (`events` and
 * `throughput` are replaced, not mutated, when they change). Pure: no DOM,
 * no sockets (the connection lives in `controllers/master-connection.ts`).
 */
import type {
  Delta,
  FeedEvent,
  JobSummary,
  Snapshot,
  ThroughputPoint,
  WorkerSummary,
} from '../../shared/protocol.js';

/** Feed events kept in memory (the feed shows the newest). @defaultValue 300 */
export const MAX_EVENTS = 300;
/** Throughput history kept, in milliseconds of master time. @defaultValue 10 min */
export const THROUGHPUT_WINDOW_MS = 10 * 60_000;
/** Hard cap on throughput points, whatever the delta rate. */
export const MAX_THROUGHPUT_POINTS = 4_000;

export class DashboardModel {
  /** Master time of the latest snapshot or delta (ms since epoch); 0 before any. */
  at = 0;
  /** Bumped on every change. */
  version = 0;
  readonly jobs = new Map<string, JobSummary>();
  readonly workers = new Map<string, WorkerSummary>();
  /** Oldest first. */
  events: FeedEvent[] = [];
  /** Oldest first. */
  throughput: ThroughputPoint[] = [];

  /** True once a snapshot has arrived. */
  get loaded(): boolean {
    return this.at > 0;
  }

  /** Replaces everything with a snapshot (sent after every `watch`). */
  reset(snapshot: Snapshot): void {
    this.at = snapshot.at;
    this.jobs.clear();
    for (const job of snapshot.jobs) this.jobs.set(job.id, job);
    this.workers.clear();
    for (const worker of snapshot.workers) this.workers.set(worker.id, worker);
    this.events = snapshot.events.slice(-MAX_EVENTS);
    this.throughput = [];
    for (const point of snapshot.throughput) this.#addPoint(point);
    this.#trimThroughput();
    this.version++;
  }

  /** Folds one delta in: changed jobs and workers replace their old versions. */
  apply(delta: Delta): void {
    this.at = Math.max(this.at, delta.at);
    for (const job of delta.jobs) this.jobs.set(job.id, job);
    for (const id of delta.removedJobs ?? []) this.jobs.delete(id);
    for (const id of delta.removedWorkers) this.workers.delete(id);
    for (const worker of delta.workers) this.workers.set(worker.id, worker);
    if (delta.events.length > 0) {
      const events = this.events.concat(delta.events);
      this.events =
        events.length > MAX_EVENTS ? events.slice(-MAX_EVENTS) : events;
    }
    // A new array on every change, so that lit sees a new property value.
    this.throughput = this.throughput.slice();
    this.#addPoint(delta.throughput);
    this.#trimThroughput();
    this.version++;
  }

  /**
   * Older jobs paged in from `GET /api/jobs` ("show older"): added where the live feed
   * has no newer version of them.
   */
  addOlder(jobs: readonly JobSummary[]): void {
    for (const job of jobs)
      if (!this.jobs.has(job.id)) this.jobs.set(job.id, job);
    this.version++;
  }

  #addPoint(point: ThroughputPoint): void {
    const last = this.throughput[this.throughput.length - 1];
    // Out-of-order or repeated points would fold the chart back on itself.
    if (last && point.at <= last.at) {
      if (point.at === last.at)
        this.throughput[this.throughput.length - 1] = point;
      return;
    }
    this.throughput.push(point);
  }

  #trimThroughput(): void {
    const from = this.at - THROUGHPUT_WINDOW_MS;
    let drop = 0;
    while (
      drop < this.throughput.length &&
      (this.throughput[drop] as ThroughputPoint).at < from
    )
      drop++;
    drop = Math.max(drop, this.throughput.length - MAX_THROUGHPUT_POINTS);
    if (drop > 0) this.throughput = this.throughput.slice(drop);
  }
}
