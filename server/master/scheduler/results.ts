/**
 * Results from workers, fenced by their lease: the one place where a task's outcome is
 * decided. A result is accepted from the worker its lease was issued to, while the task
 * is open; everything else is a race (ignored) or a forgery (rejected).
 */
import { grow } from './allowance.js';
import { ErrorCode } from '../../../shared/errors.js';
import { noteSuccess } from './backups.js';
import { creditFor, creditedBusyMs, type Credit } from './credit.js';
import type { JobRecord, LeaseRecord, Vote, WorkerRecord } from './records.js';
import type { State } from './state.js';
import {
  dropLease,
  finishTask,
  lostLease,
  reportFailure,
  syncReplica,
} from './transitions.js';
import type { ReceivedResult } from './types.js';
import { TaskState } from './task-table.js';

type Success = Extract<ReceivedResult, { ok: true }>;
type Failure = Extract<ReceivedResult, { ok: false }>;

/** Applies a batch of results from `worker`, each on its own. */
export function receiveResults(
  s: State,
  worker: WorkerRecord,
  results: readonly ReceivedResult[],
): void {
  for (const result of results) {
    const rec = s.leases.get(result.lease);
    if (rec === undefined || rec.worker !== worker) {
      // A lease we cancelled on this worker: its result crossed our cancel.
      if (worker.revoked.delete(result.lease)) continue;
      s.out.push({
        type: 'reject-result',
        workerId: worker.id,
        lease: result.lease,
        code: ErrorCode.UnknownLease,
        message: `lease ${result.lease} is not held by this worker`,
      });
      continue;
    }
    // A lease on record means its task is open: ending a task drops all its leases.
    const { job, index } = rec;
    const wasActive = rec.isActive;
    // Answering is what earns a worker a larger allowance (see allowance.ts).
    if (wasActive) grow(s.options.allowance, worker);
    dropLease(s, rec);
    if (result.ok && (result.bytes ?? 0) > job.limits.maxOutputBytes) {
      tooLarge(s, job, index, worker, result, wasActive);
    } else if (result.ok) {
      if (job.replicaStates === undefined) noteSuccess(s, rec);
      succeeded(s, rec, result);
    } else failed(s, job, index, worker, result, wasActive);
  }
}

/**
 * An output over the job's `maxOutputBytes`: the worker is told, and it counts as a
 * failed attempt (the task goes to another worker), with its own code if it is the last.
 */
function tooLarge(
  s: State,
  job: JobRecord,
  i: number,
  worker: WorkerRecord,
  result: Success,
  wasActive: boolean,
): void {
  const error = `output of ${result.bytes} bytes is over the job's maxOutputBytes (${job.limits.maxOutputBytes})`;
  s.out.push({
    type: 'reject-result',
    workerId: worker.id,
    lease: result.lease,
    code: ErrorCode.OutputTooLarge,
    message: error,
  });
  const failure: Failure = {
    lease: result.lease,
    ok: false,
    kind: 'error',
    error,
  };
  failed(s, job, i, worker, failure, wasActive, ErrorCode.OutputTooLarge);
}

function succeeded(s: State, rec: LeaseRecord, result: Success): void {
  const { job, index: i, worker } = rec;
  if (job.replicaStates === undefined) {
    worker.done++;
    const busyMs = creditedBusyMs(worker, rec, result.busyMs, s.now);
    if (busyMs !== undefined)
      s.out.credit(worker.volunteer, worker.kind, worker.name, 1, busyMs);
    finishTask(s, job, i, { ok: true, output: result.output });
    return;
  }
  const credit = creditFor(worker, rec, result.busyMs, s.now);
  const rs = job.replicaStates.get(i);
  if (rs === undefined)
    throw new Error(`task ${i} of ${job.spec.id}: no votes`);
  // One vote per volunteer and per address, even if it got a second copy after its
  // first lease expired: a stranger's many keys or sockets on one address vote once.
  if (rs.voters.add(worker)) {
    const digest = digestOf(result);
    let vote = rs.votes.get(digest);
    if (vote === undefined) {
      vote = { output: result.output, workers: [], credits: [] };
      rs.votes.set(digest, vote);
    }
    vote.workers.push(worker.id);
    if (credit) vote.credits.push(credit);
    rs.maxVotes = Math.max(rs.maxVotes, vote.workers.length);
    const { replicas, maxAttempts } = job.limits;
    if (vote.workers.length >= replicas) {
      for (const id of vote.workers) {
        const voter = s.workers.get(id);
        if (voter) voter.done++;
      }
      countDissent(s, rs.votes, digest);
      emitCredits(s, vote.credits);
      finishTask(s, job, i, { ok: true, output: vote.output });
      return;
    }
    const voters = rs.voters.volunteers.size;
    if (voters >= replicas + maxAttempts) {
      finishTask(s, job, i, {
        ok: false,
        error: `replicas disagree: ${voters} results, at most ${rs.maxVotes} equal, ${replicas} needed`,
        code: ErrorCode.ReplicasDisagree,
      });
      return;
    }
  }
  syncReplica(s, job, i, true, true);
}

/**
 * The digest replicas are compared by: the one the shell gave (bytes are hashed there),
 * or a text output's own text.
 */
export function digestOf(result: Success): string {
  if (result.digest !== undefined) return result.digest;
  const { output } = result;
  return typeof output === 'string'
    ? `t:${output}`
    : `j:${JSON.stringify(output) ?? ''}`;
}

/** The volunteers credited with a task whose success is about to be recorded. */
function emitCredits(s: State, credits: readonly Credit[]): void {
  for (const c of credits)
    s.out.credit(c.volunteer, c.kind, c.name, c.tasks, c.busyMs);
}

/** Counts every voter whose output differs from the agreed one (BOINC's invalid results). */
function countDissent(
  s: State,
  votes: ReadonlyMap<string, Vote>,
  agreed: string,
): void {
  for (const [digest, vote] of votes) {
    if (digest === agreed) continue;
    for (const id of vote.workers) {
      s.disagreements++;
      const voter = s.workers.get(id);
      if (voter) voter.disagreed++;
    }
  }
}

/**
 * A failure report. The task fails once its failures (or deaths) reach the job's limit
 * *and* `replicas` independent witnesses (distinct volunteers on distinct addresses)
 * reported one: the agreement a success needs. Until then it is retried elsewhere.
 */
function failed(
  s: State,
  job: JobRecord,
  i: number,
  worker: WorkerRecord,
  result: Failure,
  wasActive: boolean,
  code: ErrorCode = ErrorCode.TaskFailed,
): void {
  const t = job.table;
  if (reportFailure(s, job, i, worker, result.kind, result.error, code)) return;
  job.addError(i, result.error);
  if (wasActive) {
    lostLease(s, job, i, false, worker.id);
  } else if (job.replicaStates === undefined) {
    // The task was re-queued when this lease expired: steer it away if still queued.
    if (t.state(i) === TaskState.Queued) job.avoid.set(i, worker.id);
  }
}
