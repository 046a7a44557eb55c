/**
 * Backup copies at the tail of a job (MapReduce's "backup tasks"): once a job has no
 * queued task left and a worker still has idle credit, the straggler that has run
 * longest past the job's typical task time gets a second copy on another worker. The
 * first result is recorded (fenced as any result); finishing the task revokes the other
 * copy, whose late result is then ignored. Only idle credit is used: `dispatch()` runs
 * first and serves every queued task.
 */
import { feedText } from './outbox.js';
import type { JobRecord, LeaseRecord, WorkerRecord } from './records.js';
import type { State } from './state.js';
import { canTake } from './allowance.js';
import { issueLease } from './transitions.js';
import type { Assignment } from './types.js';

/** A copy is due once its task has run this many times the typical time. */
export const STRAGGLER_FACTOR = 2;
/** Extra dispatches a job may spend on backups, as a share of its tasks. */
export const BACKUP_SHARE = 0.1;

/** Most backup copies a job may get over its life: ≤ 10% more dispatches. */
export function backupCap(job: JobRecord): number {
  return Math.floor(job.spec.taskCount * BACKUP_SHARE);
}

/** When the lease was issued (its expiry minus the job's lease length). */
export function issuedAt(rec: LeaseRecord): number {
  return rec.expiresAt - rec.job.limits.leaseMs;
}

/** Counts a successful result's duration towards its job's typical time. */
export function noteSuccess(s: State, rec: LeaseRecord): void {
  rec.job.times.add(s.now - issuedAt(rec));
  if (rec.backup) rec.job.backupsWon++;
}

/**
 * Hands idle credit to stragglers of jobs at their tail. Sets `s.backupWakeAt` to the
 * earliest time a copy not yet due would become due, so that the shell ticks then.
 */
export function dispatchBackups(s: State): void {
  s.backupWakeAt = undefined;
  if (s.hungry.size === 0 || s.backupJobs.size === 0) return;
  const served = new Map<WorkerRecord, Assignment[]>();
  for (const job of s.backupJobs) {
    if (!job.isRunning || !job.limits.backups) {
      s.backupJobs.delete(job);
      continue;
    }
    if (s.fair.has(job) || job.outstanding.size === 0) continue;
    const issued = backupsFor(s, job, served);
    if (issued > 0) {
      s.out.feed(s.now, 'backup', feedText.backup(job.spec.name, issued));
    }
  }
  for (const [worker, tasks] of served) {
    // One `assign` per worker per call: join the batch dispatch() sent it, if any.
    s.out.assign(worker.id, tasks);
    s.syncHungry(worker);
  }
}

/** Issues the due copies of one job; returns how many. */
function backupsFor(
  s: State,
  job: JobRecord,
  served: Map<WorkerRecord, Assignment[]>,
): number {
  const typical = job.times.typical();
  if (typical === undefined) return 0;
  const dueAfter = Math.max(1, typical * STRAGGLER_FACTOR);
  let room = backupCap(job) - job.backupsIssued;
  if (room <= 0) return 0;
  const stragglers = stragglersOf(job);
  // At a job's tail every results frame comes here: while even the oldest straggler is
  // not due, one pass finds when it will be, and nothing is sorted.
  const oldest = oldestOf(stragglers);
  if (oldest === undefined) return 0;
  const firstDue = issuedAt(oldest) + dueAfter;
  if (firstDue > s.now) {
    if (s.backupWakeAt === undefined || firstDue < s.backupWakeAt)
      s.backupWakeAt = firstDue;
    return 0;
  }
  stragglers.sort((a, b) => issuedAt(a) - issuedAt(b));
  let issued = 0;
  for (const rec of stragglers) {
    if (room <= 0) break;
    const dueAt = issuedAt(rec) + dueAfter;
    if (dueAt > s.now) {
      // Oldest first: the rest are due later still.
      if (s.backupWakeAt === undefined || dueAt < s.backupWakeAt) {
        s.backupWakeAt = dueAt;
      }
      break;
    }
    // None idle but its own holder: a younger straggler may still use that credit.
    const worker = idleWorker(s, rec);
    if (worker === undefined) continue;
    const assignment = issueLease(s, job, rec.index, worker);
    const copy = s.leases.get(assignment.lease);
    if (copy) copy.backup = true;
    const batch = served.get(worker);
    if (batch) batch.push(assignment);
    else served.set(worker, [assignment]);
    job.backupsIssued++;
    room--;
    issued++;
  }
  return issued;
}

/** The straggler whose copy started first. */
function oldestOf(stragglers: readonly LeaseRecord[]): LeaseRecord | undefined {
  let oldest: LeaseRecord | undefined;
  for (const rec of stragglers)
    if (oldest === undefined || issuedAt(rec) < issuedAt(oldest)) oldest = rec;
  return oldest;
}

/** Tasks of `job` with exactly one copy running (the copy), unordered. */
function stragglersOf(job: JobRecord): LeaseRecord[] {
  const out: LeaseRecord[] = [];
  for (const head of job.outstanding.values()) {
    let only: LeaseRecord | undefined;
    let active = 0;
    for (let rec: LeaseRecord | undefined = head; rec; rec = rec.nextOfTask) {
      if (rec.isActive) {
        active++;
        only = rec;
      }
    }
    if (active === 1 && only) out.push(only);
  }
  return out;
}

/** A worker with idle credit that holds no copy of the straggler's task. */
function idleWorker(s: State, rec: LeaseRecord): WorkerRecord | undefined {
  for (const worker of s.hungry) {
    // Credit and room in its allowance: a copy is held like any other task.
    if (!canTake(worker)) continue;
    if (worker === rec.worker) continue;
    if (rec.job.avoid.get(rec.index) === worker.id) continue;
    return worker;
  }
  return undefined;
}
