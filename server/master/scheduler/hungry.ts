/**
 * The connected workers that can take a task, in the order dispatch serves them
 * (`State.hungry`): a list threaded through the worker records (see LinkedList). It was
 * a Set; one task at a time, a worker joins it on every credit and leaves it on every
 * dispatch, and V8 gave the long-lived Set a new table every few of those, in the old
 * generation where its table lived, which only a mark-compact took back.
 */
import { LinkedList } from './linked-list.js';
import type { WorkerRecord } from './records.js';

export class HungryWorkers extends LinkedList<WorkerRecord> {
  /** Appends `worker` at the back; one already in keeps its place. */
  add(worker: WorkerRecord): void {
    if (!this.has(worker)) this.append(worker);
  }
}
