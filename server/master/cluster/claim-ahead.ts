/**
 * How many tasks a cluster master claims beyond its workers' credit. A worker's window
 * grows only when it runs dry while the master owes it nothing; a master that claims
 * just what the credit asks makes the worker wait a claim's round trip for every
 * window, so the window never grows and both stay small. Holding about two claims'
 * round trips of work queued here (at the rate tasks are recorded) keeps the worker fed
 * while the next claim runs, and lets its window grow. Slow tasks give a tiny rate:
 * nothing is held ahead, and the tail of a job is not hoarded by one master.
 * Pure: time is passed in.
 */

/** Shortest interval over which the recording rate is measured. */
const MEASURE_MS = 100;
/** Weight of the newest measurement in the moving averages. */
const WEIGHT = 0.3;

export class ClaimAhead {
  #ratePerMs = 0;
  #claimMs = 0;
  #since = -1;
  #count = 0;
  readonly #cap: number;

  constructor(cap: number) {
    this.#cap = cap;
  }

  /** `count` outcomes were recorded at `now`. */
  recorded(count: number, now: number): void {
    if (this.#since < 0) {
      this.#since = now;
      return;
    }
    this.#count += count;
    const elapsed = now - this.#since;
    if (elapsed < MEASURE_MS) return;
    // An idle spell (no records for seconds) is measured as a low rate: no hoarding
    // after a job's end.
    this.#ratePerMs = average(this.#ratePerMs, this.#count / elapsed);
    this.#since = now;
    this.#count = 0;
  }

  /** A claim took `ms` from its call to its answer. */
  claimed(ms: number): void {
    this.#claimMs = average(this.#claimMs, Math.max(0, ms));
  }

  /** Tasks to hold queued here beyond the workers' credit. */
  get ahead(): number {
    return Math.min(this.#cap, Math.ceil(this.#ratePerMs * this.#claimMs * 2));
  }
}

function average(old: number, next: number): number {
  return old === 0 ? next : old * (1 - WEIGHT) + next * WEIGHT;
}
