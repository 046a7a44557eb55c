/**
 * Progress frames of the tasks a worker holds, throttled: at most one per lease every
 * {@link PROGRESS_EVERY_MS}; reports in between coalesce into the latest fraction, sent
 * when the lease may send again. Only leases whose tasks report progress are tracked,
 * and each leaves when its task ends or is cancelled: bounded by the leases held.
 * Checkpoints ride the same throttle, with their own period and the state as value.
 */
import type { Lease } from '../protocol.js';

/** At most one `progress` frame per lease in this many ms; later reports coalesce. */
export const PROGRESS_EVERY_MS = 250;
/** At most one `checkpoint` frame per lease in this many ms; the latest state is kept. */
export const CHECKPOINT_EVERY_MS = 1_000;

export interface ProgressTimers {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export class ProgressThrottle<T = number> {
  /** When each lease last sent a frame. */
  readonly #sentAt = new Map<Lease, number>();
  /** The latest value of each lease not sent yet. */
  readonly #due = new Map<Lease, T>();
  #timer: unknown = null;
  #timerAt = Infinity;
  readonly #clock: ProgressTimers;
  readonly #send: (lease: Lease, value: T) => void;
  readonly #everyMs: number;

  constructor(
    clock: ProgressTimers,
    send: (lease: Lease, value: T) => void,
    everyMs = PROGRESS_EVERY_MS,
  ) {
    this.#clock = clock;
    this.#send = send;
    this.#everyMs = everyMs;
  }

  /** True while any lease has reported progress (most tasks never do). */
  get active(): boolean {
    return this.#sentAt.size > 0;
  }

  /** A task reported `fraction`: sent now, or coalesced until its lease may send. */
  report(lease: Lease, value: T): void {
    const now = this.#clock.now();
    const sentAt = this.#sentAt.get(lease);
    if (sentAt === undefined || now - sentAt >= this.#everyMs) {
      this.#due.delete(lease);
      this.#sentAt.set(lease, now);
      this.#send(lease, value);
      return;
    }
    this.#due.set(lease, value);
    this.#arm(sentAt + this.#everyMs, now);
  }

  /** Forgets leases that ended here (done or cancelled). */
  forget(leases: readonly Lease[]): void {
    for (const lease of leases) {
      this.#sentAt.delete(lease);
      this.#due.delete(lease);
    }
  }

  /** Forgets everything (the connection is gone). */
  clear(): void {
    this.#sentAt.clear();
    this.#due.clear();
    if (this.#timer !== null) {
      this.#clock.clearTimeout(this.#timer);
      this.#timer = null;
    }
    this.#timerAt = Infinity;
  }

  /** Arms the timer for `at` unless it already fires by then. */
  #arm(at: number, now: number): void {
    if (this.#timer !== null) {
      if (this.#timerAt <= at) return;
      this.#clock.clearTimeout(this.#timer);
    }
    this.#timerAt = at;
    this.#timer = this.#clock.setTimeout(this.#sendDue, at - now);
  }

  /** Sends the coalesced fractions whose lease may send again; re-arms for the rest. */
  #sendDue = (): void => {
    this.#timer = null;
    this.#timerAt = Infinity;
    const now = this.#clock.now();
    let next = Infinity;
    for (const [lease, value] of this.#due) {
      const at = (this.#sentAt.get(lease) ?? 0) + this.#everyMs;
      if (at <= now) {
        this.#due.delete(lease);
        this.#sentAt.set(lease, now);
        this.#send(lease, value);
      } else next = Math.min(next, at);
    }
    if (next !== Infinity) this.#arm(next, now);
  };
}
