/**
 * What running tasks report on the way, before their result: progress fractions and
 * checkpoints, each throttled per lease (see progress.ts), and forgotten once a task
 * ends, is cancelled or the connection closes.
 */
import type { Lease, WorkerMessage } from '../protocol.js';
import type { Outcomes } from './results-outbox.js';
import {
  CHECKPOINT_EVERY_MS,
  ProgressThrottle,
  type ProgressTimers,
} from './progress.js';

export class TaskReports {
  readonly #progress: ProgressThrottle;
  /** Checkpoints: the latest state per lease, at most one frame a second each. */
  readonly #checkpoints: ProgressThrottle<unknown>;

  constructor(clock: ProgressTimers, send: (message: WorkerMessage) => void) {
    this.#progress = new ProgressThrottle(clock, (lease, fraction) =>
      send({ type: 'progress', lease, fraction }),
    );
    this.#checkpoints = new ProgressThrottle<unknown>(
      clock,
      (lease, state) =>
        send({ type: 'checkpoint', lease, state: state as object }),
      CHECKPOINT_EVERY_MS,
    );
  }

  /** A fraction outside 0..1 (or NaN) is the task's mistake: it is not sent. */
  progress(lease: Lease, fraction: number): void {
    if (!(fraction >= 0 && fraction <= 1)) return;
    this.#progress.report(lease, fraction);
  }

  checkpoint(lease: Lease, state: unknown): void {
    this.#checkpoints.report(lease, state);
  }

  /** The tasks ended: a state not sent yet is of no use once a task has its result. */
  ended(done: Outcomes): void {
    // Only tasks that reported anything are tracked: nothing to do per task otherwise.
    for (const throttle of [this.#progress, this.#checkpoints]) {
      if (!throttle.active) continue;
      throttle.forget(done.leases);
      for (const { lease } of done.failures) throttle.forget([lease]);
    }
  }

  cancelled(leases: readonly Lease[]): void {
    if (this.#progress.active) this.#progress.forget(leases);
    if (this.#checkpoints.active) this.#checkpoints.forget(leases);
  }

  clear(): void {
    this.#progress.clear();
    this.#checkpoints.clear();
  }
}
