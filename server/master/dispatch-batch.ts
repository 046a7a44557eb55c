/**
 * Gathers what a `tasks` frame needs for the scheduler's `assign` command: each job's
 * wire facts and the stored inputs, fetched in one store query per job. The socket layer
 * then only builds and sends the frame.
 */
import type { Scheduler } from './scheduler/scheduler.js';
import type { Assignment, JobId } from './scheduler/types.js';
import type { EncodedValue, Store } from './store/store.js';
import type { JobWireInfo, DispatchBatch } from './task-frames.js';

export function collectDispatchBatch(
  tasks: readonly Assignment[],
  scheduler: Scheduler,
  store: Store,
): DispatchBatch {
  const jobId = oneJobOf(tasks);
  if (jobId !== undefined) return oneJobBatch(jobId, tasks, scheduler, store);
  const jobs = new Map<JobId, JobWireInfo>();
  const byJob = new Map<JobId, number[]>();
  for (const task of tasks) {
    let indices = byJob.get(task.jobId);
    if (!indices) {
      indices = [];
      byJob.set(task.jobId, indices);
      const facts = scheduler.jobWireFacts(task.jobId);
      if (facts) jobs.set(task.jobId, facts);
    }
    indices.push(task.index);
  }
  const inputsByJob = new Map<JobId, EncodedValue[]>();
  for (const [jobId, indices] of byJob) {
    inputsByJob.set(jobId, store.getInputs(jobId, indices));
  }
  const resumes = resumesOf(tasks, store);
  // Back in task order: each job's inputs came in the order of its tasks.
  const cursor = new Map<JobId, number>();
  const inputs = tasks.map((task) => {
    const at = cursor.get(task.jobId) ?? 0;
    cursor.set(task.jobId, at + 1);
    return inputsByJob.get(task.jobId)?.[at] ?? 'null';
  });
  return resumes ? { tasks, inputs, jobs, resumes } : { tasks, inputs, jobs };
}

/** The job of every task, if they share one (most batches, and every one at credit 1). */
function oneJobOf(tasks: readonly Assignment[]): JobId | undefined {
  const jobId = tasks[0]?.jobId;
  for (let k = 1; k < tasks.length; k++)
    if ((tasks[k] as Assignment).jobId !== jobId) return undefined;
  return jobId;
}

/**
 * A batch of one job's tasks: its inputs come back from the store in the order of the
 * tasks, with no regrouping (the round trip's hot path).
 */
function oneJobBatch(
  jobId: JobId,
  tasks: readonly Assignment[],
  scheduler: Scheduler,
  store: Store,
): DispatchBatch {
  const jobs = new Map<JobId, JobWireInfo>();
  const facts = scheduler.jobWireFacts(jobId);
  if (facts) jobs.set(jobId, facts);
  const indices = new Array<number>(tasks.length);
  for (let k = 0; k < tasks.length; k++)
    indices[k] = (tasks[k] as Assignment).index;
  const resumes = resumesOf(tasks, store);
  if (resumes) {
    const inputs = store.getInputs(jobId, indices);
    return { tasks, inputs, jobs, resumes };
  }
  // Texts side by side, spliced into the frame as one piece.
  const joined = store.getInputsJoined?.(jobId, indices);
  if (joined !== undefined) return { tasks, inputs: [], joined, jobs };
  return { tasks, inputs: store.getInputs(jobId, indices), jobs };
}

/**
 * The stored checkpoints of the tasks that resume from one, by position in `tasks`;
 * undefined when none does (the common case costs one pass over the flags).
 */
function resumesOf(
  tasks: readonly Assignment[],
  store: Store,
): Map<number, EncodedValue> | undefined {
  let resumes: Map<number, EncodedValue> | undefined;
  for (let k = 0; k < tasks.length; k++) {
    const task = tasks[k] as Assignment;
    if (task.resume !== true) continue;
    // A checkpoint dropped meanwhile (it cannot be, in one turn) just starts afresh.
    const [state] = store.getCheckpoints(task.jobId, [task.index]);
    if (state !== undefined) (resumes ??= new Map()).set(k, state);
  }
  return resumes;
}
