/**
 * Cluster mode (several masters on one shared store): a master owns only the tasks it
 * claimed. Claimed tasks open locally; lost claims go back to "elsewhere"; a job ends
 * when the shared store says so. See docs/multi-master.md.
 */
import { dropTaskCheckpoint } from './checkpoints.js';
import { feedText } from './outbox.js';
import { ReplicaState } from './records.js';
import type { State } from './state.js';
import { TaskState } from './task-table.js';
import { newJob } from './events.js';
import { endJob, revokeAll, syncFair } from './transitions.js';
import { TaskMark, type SchedulerEvent } from './types.js';

type EventOf<T extends SchedulerEvent['type']> = Extract<
  SchedulerEvent,
  { type: T }
>;

/**
 * Opens claimed tasks (queued here). The job is created on its first claim with every
 * task elsewhere; tasks appended since are added as elsewhere too. Counts of earlier
 * owners (failed attempts, deaths) carry on. A task this master had ended is reopened:
 * its record was fenced, since the store still has it open.
 */
export function tasksClaimed(s: State, e: EventOf<'tasks-claimed'>): void {
  let job = s.jobs.get(e.job.id);
  if (job === undefined) {
    const marks = new Uint8Array(e.job.taskCount).fill(TaskMark.Elsewhere);
    job = newJob(s, e.job, marks);
  }
  if (!job.isRunning) return;
  const t = job.table;
  const known = Math.max(e.job.taskCount, ...e.tasks.map((x) => x.index + 1));
  if (known > t.size) {
    t.growElsewhere(known - t.size);
    job.spec.taskCount = t.size;
  }
  if (e.job.sealed) job.spec.sealed = true;
  for (const task of e.tasks) {
    const i = task.index;
    // A claim is the store's word that the task is open and ours. A task ended here
    // was recorded under a claim that lapsed (its record fenced, or about to be): it
    // runs again. A task open here is already ours: nothing to do.
    if (i < 0 || i >= t.size || !t.isTerminal(i)) continue;
    t.setState(i, TaskState.Queued);
    t.restoreCounts(i, task.attempts, task.deaths);
    // Past the cursor a task is fresh already; before it, it needs a queue entry.
    if (i < t.cursor) {
      if (job.replicaStates) {
        const rs = new ReplicaState();
        rs.inQueue = true;
        job.replicaStates.set(i, rs);
      }
      t.requeued.pushBack(i);
    }
  }
  syncFair(s, job);
}

/** Claims taken over by another master: stop their copies, the tasks are not ours. */
export function tasksLost(s: State, e: EventOf<'tasks-lost'>): void {
  const job = s.jobs.get(e.jobId);
  if (!job?.isRunning) return;
  const t = job.table;
  for (const i of e.indices) {
    if (i < 0 || i >= t.size || t.isTerminal(i)) continue;
    revokeAll(s, job.outstanding.get(i));
    t.setState(i, TaskState.Elsewhere);
    // The checkpoint lived with the claim: the next owner starts the task afresh.
    dropTaskCheckpoint(s, job, i);
    job.avoid.delete(i);
    job.replicaStates?.delete(i);
  }
  syncFair(s, job);
}

/** The shared store completed the job: whatever is still open here was not ours. */
export function jobCompleted(s: State, e: EventOf<'job-completed'>): void {
  const job = s.jobs.get(e.jobId);
  if (!job?.isRunning) return;
  const t = job.table;
  for (const head of [...job.outstanding.values()]) revokeAll(s, head);
  for (let i = 0; i < t.size; i++) {
    if (!t.isTerminal(i)) t.setState(i, TaskState.Elsewhere);
  }
  job.state = 'completed';
  job.finishedAt = s.now;
  endJob(s, job);
  s.out.push({
    type: 'job-finished',
    jobId: job.spec.id,
    state: 'completed',
    at: s.now,
  });
  s.out.feed(
    s.now,
    'completed',
    feedText.completed(job.spec.name, t.counts.done, t.counts.failed),
  );
}
