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
  const jobs = new Map<JobId, JobWireInfo>();
  const byJob = new Map<JobId, number[]>();
  for (const task of tasks) {
    let indices = byJob.get(task.jobId);
    if (!indices) {
      indices = [];
      byJob.set(task.jobId, indices);
      const view = scheduler.jobView(task.jobId);
      if (view) {
        jobs.set(task.jobId, {
          name: view.spec.name,
          moduleHash: view.spec.moduleHash,
          timeoutMs: view.spec.options.timeoutMs,
        });
      }
    }
    indices.push(task.index);
  }
  const inputsByJob = new Map<JobId, EncodedValue[]>();
  for (const [jobId, indices] of byJob) {
    inputsByJob.set(jobId, store.getInputs(jobId, indices));
  }
  // Back in task order: each job's inputs came in the order of its tasks.
  const cursor = new Map<JobId, number>();
  const inputs = tasks.map((task) => {
    const at = cursor.get(task.jobId) ?? 0;
    cursor.set(task.jobId, at + 1);
    return inputsByJob.get(task.jobId)?.[at] ?? 'null';
  });
  return { tasks, inputs, jobs };
}
