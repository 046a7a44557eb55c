/**
 * A job's typical task time, from the durations of its recent successful tasks: what
 * backup copies (backups.ts) measure stragglers against.
 */

/** Durations kept per job to estimate its typical task time. */
export const SAMPLES = 64;
/** Finished tasks needed before a job's typical time is trusted. */
export const MIN_SAMPLES = 3;
/**
 * Lease-to-result times of a job's last {@link SAMPLES} successful tasks, and the
 * median of them. A ring buffer: O(1) per result, O(SAMPLES log SAMPLES) per median,
 * cached until the next sample.
 */
export class TaskTimes {
  readonly #ring = new Float64Array(SAMPLES);
  #count = 0;
  #next = 0;
  #median: number | undefined = undefined;

  get count(): number {
    return this.#count;
  }

  add(ms: number): void {
    this.#ring[this.#next] = Math.max(0, ms);
    this.#next = (this.#next + 1) % SAMPLES;
    if (this.#count < SAMPLES) this.#count++;
    this.#median = undefined;
  }

  /** The median duration, or `undefined` below {@link MIN_SAMPLES} samples. */
  typical(): number | undefined {
    if (this.#count < MIN_SAMPLES) return undefined;
    if (this.#median === undefined) {
      const sorted = this.#ring.slice(0, this.#count).sort();
      this.#median = sorted[Math.floor(this.#count / 2)] ?? 0;
    }
    return this.#median;
  }
}
