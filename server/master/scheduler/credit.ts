/**
 * Credit accounting: who is credited with a task, and with how much busy time. Pure:
 * the scheduler calls it where a task's outcome is decided (results.ts), and the shell
 * adds the credits it emits to the volunteers' totals.
 *
 * The rules, BOINC's: only a recorded success earns credit. A task redone elsewhere is
 * credited once, to the volunteer whose result was recorded (a later result of it finds
 * its lease revoked and is ignored); of a replicated task's voters, those who returned
 * the agreed output are credited and those who disagreed are not; a backup copy that
 * lost the race is revoked like any other copy and earns nothing.
 */
import type { LeaseRecord, WorkerRecord } from './records.js';
import type { Credit } from './types.js';

export type { Credit };

/**
 * The busy time `worker` would be credited with for the result of `rec`, or undefined
 * if the worker proved no volunteer identity (nobody to credit). The reported busy time
 * is trusted only up to the time the lease has been out: no task took longer than that
 * here.
 */
export function creditedBusyMs(
  worker: WorkerRecord,
  rec: LeaseRecord,
  reportedBusyMs: number | undefined,
  now: number,
): number | undefined {
  if (worker.volunteer.startsWith('worker:')) return undefined;
  const issuedAt = rec.expiresAt - rec.job.limits.leaseMs;
  const bound = Math.max(0, now - issuedAt);
  const reported =
    reportedBusyMs !== undefined && reportedBusyMs >= 0 ? reportedBusyMs : 0;
  return Math.min(reported, bound);
}

/** The credit of one task, kept until its task's outcome is decided (replicas' votes). */
export function creditFor(
  worker: WorkerRecord,
  rec: LeaseRecord,
  reportedBusyMs: number | undefined,
  now: number,
): Credit | undefined {
  const busyMs = creditedBusyMs(worker, rec, reportedBusyMs, now);
  if (busyMs === undefined) return undefined;
  return {
    volunteer: worker.volunteer,
    kind: worker.kind,
    name: worker.name,
    tasks: 1,
    busyMs,
  };
}
