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
/**
 * Least work held ahead, in ms at the recorded rate. Claim round trips vary widely on
 * a busy database (a few ms to over 100): the mean alone left workers idle behind a
 * slow claim, and topped up the queue with a claim of a few tasks after every record
 * batch (each claim and record costs the master and the database far more than a
 * task). At 100 ms (a worker's own prefetch target) tasks of 1 ms came in claims of
 * ~60, one every ~50 ms per master: the claims were half of the transactions. The
 * other masters' workers wait at most this long at a job's tail.
 */
const MIN_AHEAD_MS = 200;
/**
 * Most work held ahead after the workers ran dry: the tail of a job one master may
 * hoard. The rate is measured on what was recorded, so workers starved by small claims
 * show a low rate, and a window of the rate alone would stay as small as the claims.
 */
const MAX_AHEAD_MS = 1_000;
/** Weight of the newest measurement in the moving averages. */
const WEIGHT = 0.3;

export class ClaimAhead {
  #ratePerMs = 0;
  #claimMs = 0;
  #since = -1;
  #count = 0;
  #aheadMs = MIN_AHEAD_MS;
  /**
   * Tasks held ahead at least, learnt from claims that found workers idle: at a job's
   * start the rate is that of the idle spell before it (near nothing), so work ahead
   * in ms of it stays near nothing too, and each credit waited a claim's round trip.
   */
  #floor = 0;
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

  /**
   * A claim of `size` tasks took `ms` from its call to its answer; `starved`: workers
   * here had threads idle while wanting tasks when it was asked (the work ahead was
   * too short: it doubles, and so does the least number of tasks ahead, from `size`;
   * else both shrink slowly back).
   */
  claimed(ms: number, starved = false, size = 0): void {
    this.#claimMs = average(this.#claimMs, Math.max(0, ms));
    this.#aheadMs = starved
      ? Math.min(MAX_AHEAD_MS, this.#aheadMs * 2)
      : Math.max(MIN_AHEAD_MS, this.#aheadMs * 0.95);
    this.#floor = starved
      ? Math.min(this.#cap, Math.max(this.#floor * 2, size))
      : Math.floor(this.#floor * 0.95);
  }

  /** Tasks to hold queued here beyond the workers' credit. */
  get ahead(): number {
    const ms = Math.max(this.#claimMs * 2, this.#aheadMs);
    return Math.min(
      this.#cap,
      Math.max(this.#floor, Math.ceil(this.#ratePerMs * ms)),
    );
  }

  /**
   * Tasks to claim now, given the workers' `demand` (their unmet credit minus the tasks
   * queued here). Workers waiting get theirs and the work ahead at once; otherwise the
   * queue ahead is topped up only once half of it is gone, so claims stay few and big.
   */
  toClaim(demand: number): number {
    const ahead = this.ahead;
    const want = demand + ahead;
    if (demand > 0) return want;
    return want > 0 && want >= ahead / 2 ? want : 0;
  }
}

function average(old: number, next: number): number {
  return old === 0 ? next : old * (1 - WEIGHT) + next * WEIGHT;
}
