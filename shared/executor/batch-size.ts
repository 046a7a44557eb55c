/**
 * How many tasks a thread gets at once: measured task time decides, so that a batch
 * takes about `targetBatchMs` (a thread hop per tiny task would cap throughput) and a
 * slow task travels alone.
 */

/**
 * Most tasks handed to a thread at once unless the host says otherwise. Each batch costs
 * two messages (the run, its outcomes), each a clone and a wake-up of the other side,
 * tens of µs on a busy machine: at 256 that was a tenth of a µs per task or more, as
 * much as a small record's parse, each way. The measured task time still bounds a
 * batch to about `targetBatchMs`; only tiny tasks reach this cap.
 */
export const DEFAULT_MAX_BATCH = 1_024;

/** The finest task time the threads measure (their busy times are in µs). */
const MIN_TASK_MS = 0.001;

/**
 * The time the thread itself measured in the tasks of one `outcomes` message (the sum
 * of its `busy` column), or null if it sent none that fits. This is the figure to size
 * batches by: the time since the thread was last heard from also holds the waits to be
 * scheduled and heard, which on a busy machine dwarf tiny tasks, so that batches shrank
 * to a few tasks and the per-batch cost (messages, wake-ups) grew with the load.
 */
export function busyTotal(
  busy: readonly unknown[] | undefined,
  count: number,
): number | null {
  if (!Array.isArray(busy) || busy.length !== count) return null;
  let total = 0;
  for (const ms of busy) {
    if (typeof ms !== 'number' || !(ms >= 0) || ms === Infinity) return null;
    total += ms;
  }
  // Tasks faster than the clock count as its finest step, not as unmeasured (0).
  return Math.max(total, MIN_TASK_MS * count);
}

/** Task modules whose task time is kept: the most recently measured ones. */
const MODULES_KEPT = 16;

/**
 * Task time is measured per task module: one job's says nothing of another's. A worker
 * that had just run tiny tasks (or its start-up rehearsal, server/worker/warm-up-session.ts)
 * would otherwise hand a slow job's first tasks to one thread in full batches, leaving
 * the other threads idle while that thread ran them one after another.
 */
export class BatchSizer {
  /** Moving average of task time by module, ms (absent until its first outcomes). */
  readonly #avgTaskMs = new Map<string, number>();
  readonly #maxBatch: number;
  readonly #targetMs: number;

  constructor(maxBatch: number, targetMs: number) {
    this.#maxBatch = maxBatch;
    this.#targetMs = targetMs;
  }

  /** `count` tasks of `module` took `elapsedMs` (see {@link busyTotal}). */
  sample(module: string, elapsedMs: number, count: number): void {
    if (count <= 0) return;
    const sample = elapsedMs / count;
    const before = this.#avgTaskMs.get(module);
    // Re-inserted: the map's order is the order of use, oldest first.
    this.#avgTaskMs.delete(module);
    this.#avgTaskMs.set(
      module,
      before === undefined ? sample : before * 0.8 + sample * 0.2,
    );
    if (this.#avgTaskMs.size > MODULES_KEPT)
      this.#avgTaskMs.delete(this.#avgTaskMs.keys().next().value as string);
  }

  /** Whether tasks of `module` were measured. */
  measured(module: string): boolean {
    return this.#avgTaskMs.has(module);
  }

  /** Tasks of `module` to hand a thread at once: 1 until they are measured. */
  size(module: string): number {
    const avg = this.#avgTaskMs.get(module) ?? 0;
    if (avg <= 0) return 1;
    return Math.max(
      1,
      Math.min(this.#maxBatch, Math.floor(this.#targetMs / avg)),
    );
  }
}
