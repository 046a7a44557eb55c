/**
 * The arithmetic of a CPU share: a thread that gives `share` percent of a core runs,
 * then rests. After running `t` ms it owes `t * (100 / share - 1)` ms of rest; the rest
 * is taken in sleeps of at least {@link MIN_REST_MS} (tiny tasks add up until one is
 * due), and time the thread spends idle (no work) counts as rest too. Pure: time is
 * passed in, nothing here sleeps.
 */

/** Shares the volunteer page offers, in percent of a core per thread. */
export const CPU_SHARES = [25, 50, 75, 100] as const;

/** Rest shorter than this is carried to the next sleep (a timer costs ~1 ms). */
export const MIN_REST_MS = 10;

/** Rest taken beyond what was owed (a late timer, idle time) that may be kept. */
export const MAX_BANKED_MS = MIN_REST_MS;

/** Rest owed after running `ranMs` at `sharePercent` (1..100) of a core. */
export function restAfter(ranMs: number, sharePercent: number): number {
  return ranMs * (100 / clampShare(sharePercent) - 1);
}

/** A share as a whole percent, 1..100 (anything else is clamped; NaN is 100). */
export function clampShare(sharePercent: number): number {
  if (!Number.isFinite(sharePercent)) return 100;
  return Math.min(100, Math.max(1, Math.round(sharePercent)));
}

/**
 * One thread's duty cycle. The thread calls {@link DutyCycle.begin} when it starts
 * working (after idling or resting) and {@link DutyCycle.end} when it stops; between
 * tasks it asks {@link DutyCycle.restDue} whether to sleep now, and for how long.
 */
export class DutyCycle {
  /** Rest owed (negative: rest banked, at most {@link MAX_BANKED_MS}). */
  #owedMs = 0;
  /** When the current stretch of work started; null while idle or resting. */
  #busySince: number | null = null;
  /** When the thread last stopped working. */
  #idleSince: number | null = null;
  #share = 100;

  constructor(sharePercent = 100) {
    this.#share = clampShare(sharePercent);
  }

  get share(): number {
    return this.#share;
  }

  /**
   * A new share applies from `now`: work before it is counted at the old share. At
   * 100% nothing more is owed.
   */
  setShare(sharePercent: number, now: number): void {
    const busy = this.#busySince !== null;
    if (busy) this.end(now);
    this.#share = clampShare(sharePercent);
    if (this.#share === 100) this.#owedMs = Math.min(0, this.#owedMs);
    if (busy) this.begin(now);
  }

  /** The thread starts working at `now`; time since it stopped was rest. */
  begin(now: number): void {
    if (this.#busySince !== null) return;
    if (this.#idleSince !== null)
      this.#owedMs = Math.max(
        -MAX_BANKED_MS,
        this.#owedMs - Math.max(0, now - this.#idleSince),
      );
    this.#idleSince = null;
    this.#busySince = now;
  }

  /** The thread stops working at `now` (to idle or rest). */
  end(now: number): void {
    if (this.#busySince === null) return;
    this.#owedMs += restAfter(Math.max(0, now - this.#busySince), this.#share);
    this.#busySince = null;
    this.#idleSince = now;
  }

  /** Rest to take now, in ms: 0 until at least {@link MIN_REST_MS} is owed. */
  restDue(now: number): number {
    if (this.#share === 100) return 0;
    const running =
      this.#busySince === null ? 0 : Math.max(0, now - this.#busySince);
    const owed = this.#owedMs + restAfter(running, this.#share);
    return owed >= MIN_REST_MS ? owed : 0;
  }
}
