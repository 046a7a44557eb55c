/**
 * Sending finished tasks' results: the outbox gathers them, a short timer lets what
 * finishes within a moment ride along, and a flush sends frames of at most
 * {@link MAX_RESULTS_PER_FRAME} results, the last one carrying the new credit.
 */
import type { WorkerMessage } from '../protocol.js';
import type { Clock } from './ports.js';
import {
  MAX_RESULTS_PER_FRAME,
  ResultsOutbox,
  type Outcomes,
} from './results-outbox.js';

/** How long results wait for others to finish before they are sent. */
export const FLUSH_DELAY_MS = 4;
/**
 * How long results may wait while the worker's window is still well stocked (no credit
 * due): the master needs them only to record them, and each results frame costs the
 * master (and, in cluster mode, its record batches) far more than a result in it.
 * Tasks of a few ms sent every {@link FLUSH_DELAY_MS} made frames of a handful.
 */
export const HOLD_DELAY_MS = 25;

export class ResultsSender {
  readonly #outbox = new ResultsOutbox();
  readonly #clock: Clock;
  readonly #send: (message: WorkerMessage) => void;
  #timer: unknown = null;
  /** When the armed timer fires (clock ms). */
  #dueAt = 0;

  constructor(clock: Clock, send: (message: WorkerMessage) => void) {
    this.#clock = clock;
    this.#send = send;
  }

  /** Results waiting. */
  get size(): number {
    return this.#outbox.size;
  }

  /** A frame's worth is waiting: send it now rather than wait for the timer. */
  get full(): boolean {
    return this.#outbox.size >= MAX_RESULTS_PER_FRAME;
  }

  add(done: Outcomes): void {
    this.#outbox.add(done);
  }

  /**
   * Calls `flush` within {@link FLUSH_DELAY_MS} when `creditDue` (the new credit rides
   * on the frame), else within {@link HOLD_DELAY_MS}, unless a call is due sooner.
   */
  flushSoon(flush: () => void, creditDue = true): void {
    const delay = creditDue ? FLUSH_DELAY_MS : HOLD_DELAY_MS;
    const at = this.#clock.now() + delay;
    if (this.#timer !== null) {
      if (this.#dueAt <= at) return;
      this.#clock.clearTimeout(this.#timer);
    }
    this.#dueAt = at;
    this.#timer = this.#clock.setTimeout(flush, delay);
  }

  cancelTimer(): void {
    if (this.#timer !== null) {
      this.#clock.clearTimeout(this.#timer);
      this.#timer = null;
    }
  }

  /** Drops what waits (the master re-queued those tasks). */
  clear(): void {
    this.#outbox.clear();
    this.cancelTimer();
  }

  /**
   * Sends everything waiting; `lastCredit` is asked once, for the last frame only (one
   * frame, not two). Returns how many results were sent, for the acks to count down.
   */
  sendAll(lastCredit: () => number): number {
    let sent = 0;
    while (this.#outbox.size > 0) {
      const batch = this.#outbox.take();
      const credit = this.#outbox.size === 0 ? lastCredit() : 0;
      sent += batch.leases.length + batch.failures.length;
      this.#send({
        type: 'results',
        leases: batch.leases,
        outputs: batch.outputs,
        ...(batch.leases.length > 0 ? { busyMs: batch.busyMs } : {}),
        ...(batch.failures.length > 0 ? { failures: batch.failures } : {}),
        ...(credit > 0 ? { credit } : {}),
      });
    }
    return sent;
  }
}
