/**
 * Fair share across running jobs by stride scheduling (Waldspurger 1995): each job with
 * queued work has a pass; the next task comes from the job with the smallest pass, whose
 * pass then grows by `1 / weight`. Over any window, jobs get tasks in proportion to their
 * weights, and a job of a million tasks cannot starve a job of ten.
 */
import type { JobRecord } from './records.js';

/** A min-heap of the jobs that have queued work, by (pass, submission order). */
export class FairShare {
  readonly #heap: JobRecord[] = [];
  /** Pass of the last job served: where a job starts when nothing else is queued. */
  #virtualTime = 0;

  get size(): number {
    return this.#heap.length;
  }

  has(job: JobRecord): boolean {
    return job.heapIndex >= 0;
  }

  /** The job to serve next. */
  peek(): JobRecord | undefined {
    return this.#heap[0];
  }

  /** The current minimum pass. */
  minPass(): number {
    return this.#heap[0]?.pass ?? this.#virtualTime;
  }

  /**
   * Adds a job that has work again. It starts no earlier than the current minimum pass,
   * so that time spent idle is not banked into a burst that would starve the others.
   */
  enter(job: JobRecord): void {
    job.pass = Math.max(job.pass, this.minPass());
    this.reinsert(job);
  }

  /** Adds a job back with its pass unchanged (it was set aside for a moment). */
  reinsert(job: JobRecord): void {
    if (job.heapIndex >= 0)
      throw new Error(`job ${job.spec.id} already queued`);
    job.heapIndex = this.#heap.length;
    this.#heap.push(job);
    this.#up(job.heapIndex);
  }

  leave(job: JobRecord): void {
    const k = job.heapIndex;
    if (k < 0) return;
    const last = this.#heap.pop();
    job.heapIndex = -1;
    if (last === undefined || last === job) return;
    this.#heap[k] = last;
    last.heapIndex = k;
    this.#down(k);
    this.#up(last.heapIndex);
  }

  /** Charges `job` for one task. */
  charge(job: JobRecord): void {
    this.#virtualTime = job.pass;
    job.pass += 1 / job.limits.weight;
    if (job.heapIndex >= 0) this.#down(job.heapIndex);
  }

  /** Checks the heap property and the back-pointers; for invariant checks. */
  check(): JobRecord[] {
    this.#heap.forEach((job, k) => {
      if (job.heapIndex !== k)
        throw new Error(`job ${job.spec.id}: heap index`);
      const parent = this.#heap[(k - 1) >> 1];
      if (k > 0 && parent !== undefined && less(job, parent)) {
        throw new Error(`job ${job.spec.id}: heap order`);
      }
    });
    return [...this.#heap];
  }

  #up(k: number): void {
    const heap = this.#heap;
    const job = heap[k];
    if (job === undefined) return;
    while (k > 0) {
      const p = (k - 1) >> 1;
      const parent = heap[p];
      if (parent === undefined || !less(job, parent)) break;
      heap[k] = parent;
      parent.heapIndex = k;
      k = p;
    }
    heap[k] = job;
    job.heapIndex = k;
  }

  #down(k: number): void {
    const heap = this.#heap;
    const job = heap[k];
    if (job === undefined) return;
    for (;;) {
      let c = 2 * k + 1;
      let child = heap[c];
      if (child === undefined) break;
      const right = heap[c + 1];
      if (right !== undefined && less(right, child)) {
        c++;
        child = right;
      }
      if (!less(child, job)) break;
      heap[k] = child;
      child.heapIndex = k;
      k = c;
    }
    heap[k] = job;
    job.heapIndex = k;
  }
}

function less(a: JobRecord, b: JobRecord): boolean {
  return a.pass < b.pass || (a.pass === b.pass && a.seq < b.seq);
}
