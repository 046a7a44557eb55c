/**
 * How many tasks a thread gets at once: measured task time decides, so that a batch
 * takes about `targetBatchMs` (a thread hop per tiny task would cap throughput) and a
 * slow task travels alone.
 */
export class BatchSizer {
  /** Moving average of task time, ms (0 until the first outcomes). */
  #avgTaskMs = 0;
  readonly #maxBatch: number;
  readonly #targetMs: number;

  constructor(maxBatch: number, targetMs: number) {
    this.#maxBatch = maxBatch;
    this.#targetMs = targetMs;
  }

  /** `count` tasks were answered `elapsedMs` after the thread was last heard from. */
  sample(elapsedMs: number, count: number): void {
    if (count <= 0) return;
    const sample = elapsedMs / count;
    this.#avgTaskMs =
      this.#avgTaskMs === 0 ? sample : this.#avgTaskMs * 0.8 + sample * 0.2;
  }

  get size(): number {
    if (this.#avgTaskMs <= 0) return 1;
    return Math.max(
      1,
      Math.min(this.#maxBatch, Math.floor(this.#targetMs / this.#avgTaskMs)),
    );
  }
}
