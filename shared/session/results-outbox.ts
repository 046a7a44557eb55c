/**
 * Results finished here and not sent yet, in the columns of a `results` frame. The
 * session gathers what finishes within a moment and sends it in frames of at most
 * {@link MAX_RESULTS_PER_FRAME} results.
 */
import { splitRunAt } from '../json-text.js';
import type { Lease, TaskFailure } from '../protocol.js';

/**
 * How some tasks ended: successes column by column (`outputs[i]` of `leases[i]`),
 * failures apart, and `skipped`: leases that ended before their task could start (the
 * master has already re-queued those; they get no result, but their slot is free again,
 * so the session may grant that credit anew).
 */
export interface Outcomes {
  leases: Lease[];
  outputs: unknown[];
  failures: TaskFailure[];
  skipped?: Lease[];
  /** Busy milliseconds of each success (`busyMs[i]` of `leases[i]`), when measured. */
  busyMs?: number[];
}

/** The outbox's columns: every success has a busy time (0 when not measured). */
interface Columns extends Outcomes {
  busyMs: number[];
}

const emptyColumns = (): Columns => ({
  leases: [],
  outputs: [],
  failures: [],
  busyMs: [],
});

export const MAX_RESULTS_PER_FRAME = 2_000;

export class ResultsOutbox {
  #outbox: Columns = emptyColumns();

  /** Results waiting. */
  get size(): number {
    return this.#outbox.leases.length + this.#outbox.failures.length;
  }

  add(done: Outcomes): void {
    const outbox = this.#outbox;
    for (let i = 0; i < done.leases.length; i++) {
      outbox.leases.push(done.leases[i] as Lease);
      outbox.outputs.push(done.outputs[i]);
      outbox.busyMs.push(done.busyMs?.[i] ?? 0);
    }
    for (const failure of done.failures) outbox.failures.push(failure);
  }

  /** Drops everything (the master re-queued those tasks). */
  clear(): void {
    this.#outbox = emptyColumns();
  }

  /** Takes one frame's worth: everything if it fits, else failures first (they are rare). */
  take(): Columns {
    const outbox = this.#outbox;
    if (this.size <= MAX_RESULTS_PER_FRAME) {
      this.clear();
      return outbox;
    }
    const failures = outbox.failures.splice(0, MAX_RESULTS_PER_FRAME);
    const room = MAX_RESULTS_PER_FRAME - failures.length;
    // A run of output texts cut here becomes one text per output.
    splitRunAt(outbox.outputs, room);
    return {
      leases: outbox.leases.splice(0, room),
      outputs: outbox.outputs.splice(0, room),
      busyMs: outbox.busyMs.splice(0, room),
      failures,
    };
  }
}
