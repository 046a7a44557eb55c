/**
 * Placement: which worker gets which queued task. Workers with credit are served in
 * rotation, each with one batch per `handle()` call; inside a batch, tasks come from
 * jobs in fair-share order; inside a job, re-queued tasks come before fresh ones.
 */
import { room } from './allowance.js';
import { ReplicaState, type JobRecord, type WorkerRecord } from './records.js';
import type { State } from './state.js';
import { hasWork, isQueuedEntry, issueLease } from './transitions.js';
import type { Assignment } from './types.js';

/**
 * Re-queue entries a worker looks at before it gives up on them for now. Bounds the
 * cost of entries it may not take (it failed them, or holds a replica of them).
 */
export const SCAN_LIMIT = 16;

/** Hands queued tasks to workers with credit; at most one `assign` per worker. */
export function dispatch(s: State): void {
  if (s.fair.size === 0 || s.hungry.size === 0) return;
  const served: WorkerRecord[] = [];
  for (const worker of s.hungry) {
    if (s.fair.size === 0) break;
    const tasks = fill(s, worker);
    if (tasks.length === 0) continue;
    s.out.push({ type: 'assign', workerId: worker.id, tasks });
    served.push(worker);
  }
  // Served workers go to the back, so that the next dispatch starts with the others.
  for (const worker of served) {
    s.hungry.delete(worker);
    s.syncHungry(worker);
  }
}

/**
 * One batch for `worker`: up to its credit and the room its allowance leaves, one task
 * at a time from the fairest job.
 */
function fill(s: State, worker: WorkerRecord): Assignment[] {
  const max = Math.min(worker.credit, room(worker), s.options.maxBatch);
  const tasks: Assignment[] = [];
  // Jobs with nothing this worker may take; they go back unchanged afterwards.
  const setAside: JobRecord[] = [];
  while (tasks.length < max) {
    const job = s.fair.peek();
    if (job === undefined) break;
    const i = takeTask(s, job, worker);
    if (i < 0) {
      s.fair.leave(job);
      setAside.push(job);
      continue;
    }
    s.fair.charge(job);
    tasks.push(issueLease(s, job, i, worker));
    if (!hasWork(job)) s.fair.leave(job);
  }
  for (const job of setAside) {
    if (!s.fair.has(job) && hasWork(job)) s.fair.reinsert(job);
  }
  return tasks;
}

/** Takes the next task of `job` that `worker` may run, or returns -1. */
function takeTask(s: State, job: JobRecord, worker: WorkerRecord): number {
  const t = job.table;
  const queue = t.requeued;
  const scan = Math.min(queue.length, SCAN_LIMIT);
  for (let k = 0; k < scan; k++) {
    const i = queue.popFront();
    if (!isQueuedEntry(job, i)) continue;
    if (mayTake(s, job, i, worker)) {
      const rs = job.replicaStates?.get(i);
      if (rs) rs.inQueue = false;
      return i;
    }
    // Rotate it to the back: the next worker finds it soon, and this one does not
    // look at the same entries again on every task of its batch.
    queue.pushBack(i);
  }
  const i = t.takeFresh();
  if (i >= 0 && job.replicaStates) job.replicaStates.set(i, new ReplicaState());
  return i;
}

/**
 * A task that failed on a worker goes elsewhere if there is anywhere else; a replica
 * never goes to a volunteer, or an address, that voted on the task or holds a copy of
 * it: agreement needs distinct volunteers on distinct addresses.
 */
function mayTake(
  s: State,
  job: JobRecord,
  i: number,
  worker: WorkerRecord,
): boolean {
  if (job.avoid.get(i) === worker.id && s.workers.size > 1) return false;
  const rs = job.replicaStates?.get(i);
  if (rs === undefined) return true;
  if (!rs.voters.isIndependent(worker)) return false;
  for (const rec of job.leasesOf(i))
    if (rec.worker.overlaps(worker)) return false;
  return true;
}
