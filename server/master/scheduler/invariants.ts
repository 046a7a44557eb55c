/**
 * A full consistency check of the scheduler's state (dask's `validate_state`). O(state):
 * tests call it after every step; production code never needs to.
 */
import { canTake, maxAllowance, room } from './allowance.js';
import type { JobRecord, LeaseRecord } from './records.js';
import { MAX_REVOKED, type State } from './state.js';
import { TaskState } from './task-table.js';
import { replicasWanted } from './transitions.js';

/** Throws an `Error` naming the first broken invariant. */
export function checkInvariants(s: State): void {
  const fail = (message: string): never => {
    throw new Error(`scheduler invariant: ${message}`);
  };
  const inHeap = new Set(s.fair.check());

  for (const [id, job] of s.jobs) {
    if (job.spec.id !== id) fail(`job ${id}: keyed wrongly`);
    if (job.spec.taskCount !== job.table.size) fail(`job ${id}: task count`);
    if (job.errors.length > 5) fail(`job ${id}: too many errors kept`);
    const { counts, size } = job.table;
    const sum =
      counts.queued +
      counts.running +
      counts.done +
      counts.failed +
      job.table.elsewhere;
    if (sum !== size) fail(`job ${id}: counts sum ${sum} != ${size}`);
    if (Object.values(counts).some((n) => n < 0))
      fail(`job ${id}: negative count`);
    // A checkpoint is kept only for an open task of a running job.
    for (const i of job.checkpointed ?? []) {
      if (!job.isRunning || job.table.isTerminal(i))
        fail(`job ${id}: checkpoint kept for ended task ${i}`);
    }
    if (job.isRunning) {
      checkRunningJob(job, inHeap.has(job), fail);
      continue;
    }
    if (!job.table.released) fail(`job ${id}: finished but holds task state`);
    if (job.outstanding.size > 0) fail(`job ${id}: finished with leases out`);
    if (inHeap.has(job)) fail(`job ${id}: finished but queued for dispatch`);
    if (job.finishedAt === null) fail(`job ${id}: finished without a time`);
    const ended = counts.done + counts.failed + job.table.elsewhere;
    if (job.state === 'completed' && ended !== size) {
      fail(`job ${id}: completed with open tasks`);
    }
  }

  let active = 0;
  for (const [lease, rec] of s.leases.entries()) {
    const where = `lease ${lease}`;
    if (rec.lease !== lease || rec.settled) fail(`${where}: stale record`);
    if (lease > s.leaseSeq) fail(`${where}: beyond the lease counter`);
    if (!s.isConnected(rec.worker)) fail(`${where}: holder left`);
    if (s.jobs.get(rec.job.spec.id) !== rec.job) fail(`${where}: unknown job`);
    if (!rec.job.isRunning) fail(`${where}: job finished`);
    if (rec.job.table.isTerminal(rec.index)) fail(`${where}: task over`);
    if (![...rec.job.leasesOf(rec.index)].includes(rec))
      fail(`${where}: unlinked`);
    const set = rec.expired ? rec.worker.expired : rec.worker.active;
    if (!set.has(rec)) fail(`${where}: missing from its worker`);
    if (!rec.expired) active++;
  }

  for (const [id, worker] of s.workers) {
    if (worker.id !== id) fail(`worker ${id}: keyed wrongly`);
    if (!Number.isInteger(worker.credit) || worker.credit < 0) {
      fail(`worker ${id}: credit ${worker.credit}`);
    }
    if (s.hungry.has(worker) !== canTake(worker)) {
      fail(
        `worker ${id}: hungry set out of step with credit ${worker.credit}, room ${room(worker)}`,
      );
    }
    if (worker.allowance > maxAllowance(s.options.allowance, worker.slots))
      fail(`worker ${id}: allowance ${worker.allowance} over its cap`);
    if (worker.revoked.size > MAX_REVOKED)
      fail(`worker ${id}: revoked unbounded`);
    for (const rec of worker.active) {
      if (
        s.leases.get(rec.lease) !== rec ||
        rec.expired ||
        rec.worker !== worker
      ) {
        fail(`worker ${id}: active lease ${rec.lease} not on record`);
      }
    }
    for (const rec of worker.expired) {
      if (
        s.leases.get(rec.lease) !== rec ||
        !rec.expired ||
        rec.worker !== worker
      ) {
        fail(`worker ${id}: expired lease ${rec.lease} not on record`);
      }
    }
  }
  for (const worker of s.hungry) {
    if (!s.isConnected(worker)) fail(`worker ${worker.id}: hungry but gone`);
  }

  const due = new Set<LeaseRecord>();
  for (const rec of s.expiry.live()) {
    if (due.has(rec)) fail(`lease ${rec.lease}: due twice`);
    if (s.leases.get(rec.lease) !== rec)
      fail(`lease ${rec.lease}: due but gone`);
    due.add(rec);
  }
  if (due.size !== active || s.expiry.size !== active) {
    fail(`expiry queue holds ${due.size}/${s.expiry.size}, ${active} active`);
  }
}

function checkRunningJob(
  job: JobRecord,
  inHeap: boolean,
  fail: (message: string) => never,
): void {
  const id = job.spec.id;
  const t = job.table;
  const k = job.limits.replicas;
  if (t.released) fail(`job ${id}: running without task state`);
  if (job.finishedAt !== null) fail(`job ${id}: running with an end time`);

  // Valid entries of the re-queue deque: each task at most once.
  const queued = new Set<number>();
  for (const i of t.requeued.values()) {
    if (i < 0 || i >= t.cursor)
      fail(`job ${id}: queue entry ${i} never dispatched`);
    const valid = job.replicaStates
      ? job.replicaStates.get(i)?.inQueue === true
      : t.state(i) === TaskState.Queued;
    if (!valid) continue; // stale: dropped when reached
    if (queued.has(i)) fail(`job ${id}: task ${i} queued twice`);
    queued.add(i);
  }

  const counts = { queued: 0, running: 0, done: 0, failed: 0 };
  let realWork = false;
  for (let i = 0; i < t.size; i++) {
    const state = t.state(i);
    const where = `job ${id} task ${i}`;
    const leases = [...job.leasesOf(i)];
    const activeLeases = leases.filter((r) => r.isActive).length;
    if (state === TaskState.Queued) counts.queued++;
    else if (state === TaskState.Running) counts.running++;
    else if (state === TaskState.Done) counts.done++;
    else if (state === TaskState.Failed) counts.failed++;
    if (t.isTerminal(i)) {
      if (leases.length > 0) fail(`${where}: over with leases out`);
      if (job.avoid.has(i) || job.replicaStates?.has(i))
        fail(`${where}: over with state`);
      continue;
    }
    if ((state === TaskState.Running) !== activeLeases > 0) {
      fail(`${where}: state ${state} with ${activeLeases} active leases`);
    }
    // Past the limit a task stays open only while too few independent witnesses agree.
    const agreed = job.witnessCount(i) >= job.limits.replicas;
    if (t.failures(i) >= job.limits.maxAttempts && agreed)
      fail(`${where}: too many failures`);
    if (t.deaths(i) >= job.limits.maxWorkerDeaths && agreed)
      fail(`${where}: too many deaths`);
    if (i >= t.cursor) {
      if (
        state !== TaskState.Queued ||
        leases.length > 0 ||
        t.dispatches(i) > 0
      ) {
        fail(`${where}: fresh but touched`);
      }
      realWork = true;
      continue;
    }
    if (t.dispatches(i) > job.limits.dispatchBound) {
      fail(`${where}: dispatched past its bound`);
    }
    const rs = job.replicaStates?.get(i);
    if (k === 1) {
      // A straggler may have one backup copy beside it (backups.ts).
      const most = job.limits.backups ? 2 : 1;
      if (activeLeases > most) fail(`${where}: ${activeLeases} active leases`);
      const holders = new Set(
        leases.filter((r) => r.isActive).map((r) => r.worker),
      );
      if (holders.size !== activeLeases)
        fail(`${where}: two copies on one worker`);
      if (
        state === TaskState.Queued &&
        t.dispatches(i) >= job.limits.dispatchBound
      ) {
        fail(`${where}: queued again past its dispatch bound`);
      }
      if ((state === TaskState.Queued) !== queued.has(i)) {
        fail(
          `${where}: queued ${state === TaskState.Queued} but in queue ${queued.has(i)}`,
        );
      }
      if (queued.has(i)) realWork = true;
      continue;
    }
    if (rs === undefined) fail(`${where}: replicated task without votes`);
    else {
      if (rs.inQueue !== queued.has(i)) fail(`${where}: inQueue flag`);
      const wanted = replicasWanted(job, i);
      if (
        wanted > 0 &&
        !rs.inQueue &&
        t.dispatches(i) < job.limits.dispatchBound
      ) {
        fail(`${where}: wants ${wanted} copies but is not queued`);
      }
      if (rs.inQueue && wanted > 0) realWork = true;
      if (rs.maxVotes >= k) fail(`${where}: agreed but open`);
      const holders = new Set(leases.map((r) => r.worker.volunteer));
      if (holders.size !== leases.length)
        fail(`${where}: two copies on one volunteer`);
    }
  }
  for (const [key, n] of Object.entries(counts)) {
    if (t.counts[key as keyof typeof counts] !== n) {
      fail(
        `job ${id}: ${key} count ${t.counts[key as keyof typeof counts]} != ${n}`,
      );
    }
  }
  for (const i of job.outstanding.keys()) {
    if (i < 0 || i >= t.size) fail(`job ${id}: lease for task ${i}`);
  }
  if (inHeap !== realWork) {
    fail(`job ${id}: in fair-share heap ${inHeap} but has work ${realWork}`);
  }
}
