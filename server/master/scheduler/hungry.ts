/**
 * The connected workers that can take a task, in the order dispatch serves them
 * (`State.hungry`): a list threaded through the worker records. It was a Set; one task
 * at a time, a worker joins it on every credit and leaves it on every dispatch, and V8
 * gave the long-lived Set a new table every few of those, in the old generation where
 * its table lived, which only a mark-compact took back. Not to be changed while it is
 * being iterated (no caller does).
 */
import type { WorkerRecord } from './records.js';

export class HungryWorkers implements Iterable<WorkerRecord> {
  #first: WorkerRecord | undefined = undefined;
  #last: WorkerRecord | undefined = undefined;
  #size = 0;

  get size(): number {
    return this.#size;
  }

  has(worker: WorkerRecord): boolean {
    return worker.isHungry;
  }

  /** Appends `worker` at the back; one already in keeps its place. */
  add(worker: WorkerRecord): void {
    if (worker.isHungry) return;
    worker.isHungry = true;
    worker.hungryPrev = this.#last;
    worker.hungryNext = undefined;
    if (this.#last === undefined) this.#first = worker;
    else this.#last.hungryNext = worker;
    this.#last = worker;
    this.#size++;
  }

  delete(worker: WorkerRecord): boolean {
    if (!worker.isHungry) return false;
    const prev = worker.hungryPrev;
    const next = worker.hungryNext;
    if (prev === undefined) this.#first = next;
    else prev.hungryNext = next;
    if (next === undefined) this.#last = prev;
    else next.hungryPrev = prev;
    worker.isHungry = false;
    worker.hungryPrev = undefined;
    worker.hungryNext = undefined;
    this.#size--;
    return true;
  }

  *[Symbol.iterator](): Iterator<WorkerRecord> {
    for (let worker = this.#first; worker !== undefined;) {
      const next = worker.hungryNext;
      yield worker;
      worker = next;
    }
  }
}
