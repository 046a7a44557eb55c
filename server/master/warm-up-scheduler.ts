/**
 * A synthetic job through a throwaway scheduler, so that the real one's first job runs
 * on compiled code: submit, two workers, credit, assignments (written as `tasks`
 * frames), results (read as the intake reads them), completion. The scheduler is pure,
 * so this touches no store, socket or clock; the JIT's work is shared with the
 * master's own scheduler, the state is not.
 */
import type { JobId, Lease, Results, WorkerId } from '../../shared/protocol.js';
import { toReceivedResults } from './result-intake.js';
import { Scheduler } from './scheduler/scheduler.js';
import type { Command, SchedulerEvent } from './scheduler/types.js';
import { buildTasksFrame, type JobWireInfo } from './task-frames.js';

const JOB = 'warm-up' as JobId;
const WORKERS = ['warm-up-1', 'warm-up-2'] as WorkerId[];
const WIRE = new Map<JobId, JobWireInfo>([
  [JOB, { name: 'warm-up', moduleHash: '0'.repeat(64), timeoutMs: 60_000 }],
]);

/** Runs `tasks` tasks to the end; returns how many results the scheduler took. */
export function warmScheduler(tasks = 4_096): number {
  // Leases as the real scheduler issues them (main.ts): past the small-integer range, so
  // that the code compiled here is not thrown away (deoptimised) on the first real lease.
  const scheduler = new Scheduler({ firstLease: Date.now() * 1_000 });
  let results = 0;
  const pending: { workerId: WorkerId; leases: Lease[] }[] = [];
  const handle = (event: SchedulerEvent): void => {
    for (const command of scheduler.handle(event) as Command[]) {
      if (command.type !== 'assign') continue;
      buildTasksFrame(
        command.tasks,
        command.tasks.map((task) => String(task.index)),
        WIRE,
      );
      pending.push({
        workerId: command.workerId,
        leases: command.tasks.map((task) => task.lease),
      });
    }
  };
  handle({
    type: 'job-submitted',
    job: {
      id: JOB,
      name: 'warm-up',
      moduleHash: '0'.repeat(64),
      options: { timeoutMs: 60_000, maxAttempts: 5, replicas: 1, priority: 0 },
      taskCount: tasks,
      sealed: true,
      createdAt: 0,
    },
    at: 0,
  });
  for (const workerId of WORKERS)
    handle({
      type: 'worker-joined',
      workerId,
      kind: 'node',
      name: workerId,
      slots: 1,
      at: 0,
    });
  // Each round: every worker asks for more, then answers all it holds (as workers do).
  for (let round = 1; results < tasks && round <= tasks; round++) {
    for (const workerId of WORKERS)
      handle({ type: 'credit-granted', workerId, credit: 256, at: round });
    for (const { workerId, leases } of pending.splice(0)) {
      results += leases.length;
      const outputs = leases.map((_, i) => String(i));
      const message = {
        type: 'results',
        leases,
        outputs,
        busyMs: leases.map(() => 0.01),
      } as unknown as Results;
      handle({
        type: 'results-received',
        workerId,
        results: toReceivedResults(message, false, outputs),
        at: round,
      });
    }
  }
  return results;
}
