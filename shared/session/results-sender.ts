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

export class ResultsSender {
  readonly #outbox = new ResultsOutbox();
  readonly #clock: Clock;
  readonly #send: (message: WorkerMessage) => void;
  #timer: unknown = null;

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

  /** Calls `flush` within {@link FLUSH_DELAY_MS} unless a call is already due. */
  flushSoon(flush: () => void): void {
    this.#timer ??= this.#clock.setTimeout(flush, FLUSH_DELAY_MS);
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
