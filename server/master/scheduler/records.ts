/**
 * The scheduler's mutable records of jobs, workers, leases and replicated tasks. Only the
 * scheduler's modules touch them, and only from inside `Scheduler.handle()`.
 */
import type {
  JobState,
  WorkerKind,
  WorkerSandbox,
} from '../../../shared/protocol.js';
import { LinkedList } from './linked-list.js';
import { TaskTimes } from './task-times.js';
import type { TaskTable } from './task-table.js';
import type { Credit, JobSpec, Lease, VolunteerId, WorkerId } from './types.js';
import { WindowMap } from './window-map.js';

/** Errors kept per job for the dashboard. */
export const ERRORS_KEPT = 5;

/** One dispatch of one task to one worker. */
export class LeaseRecord {
  /** Past its expiry: the task was re-queued; the record stays to fence a late result. */
  expired = false;
  /** Removed from every structure (the expiry queue deletes lazily). */
  settled = false;
  /** A backup copy of a straggler (backups.ts), not the task's own dispatch. */
  backup = false;
  /**
   * When its last checkpoint was kept (checkpoints.ts), if one was. (Not -Infinity: a
   * number that is not a small integer is a heap object of its own in every record.)
   */
  checkpointAt: number | undefined = undefined;
  /** The task's other outstanding leases (a short linked list, newest first). */
  nextOfTask: LeaseRecord | undefined = undefined;
  /** The worker's list (active or expired) this lease is linked into, and its neighbours there. */
  list: LeaseList | undefined = undefined;
  prevInList: LeaseRecord | undefined = undefined;
  nextInList: LeaseRecord | undefined = undefined;

  readonly lease: Lease;
  readonly job: JobRecord;
  readonly index: number;
  readonly worker: WorkerRecord;
  readonly expiresAt: number;

  constructor(
    lease: Lease,
    job: JobRecord,
    index: number,
    worker: WorkerRecord,
    expiresAt: number,
  ) {
    this.lease = lease;
    this.job = job;
    this.index = index;
    this.worker = worker;
    this.expiresAt = expiresAt;
  }

  /** Active: counts as the task running on its worker. */
  get isActive(): boolean {
    return !this.expired && !this.settled;
  }
}

/**
 * A worker's active or expired leases, in the order they were added (see LinkedList): a
 * record is in at most one of them.
 */
export class LeaseList extends LinkedList<LeaseRecord> {
  /** Appends `rec` (which must be in no list). */
  add(rec: LeaseRecord): void {
    if (rec.list !== undefined)
      throw new Error(`lease ${rec.lease} listed twice`);
    this.append(rec);
  }
}

/** A connected worker. */
export class WorkerRecord {
  /** Tasks it may still be sent (the prefetch window it granted). */
  credit = 0;
  /** Most active leases it may hold (see allowance.ts); set by the scheduler on joining. */
  allowance = 0;
  /** Its results that were recorded. */
  done = 0;
  /** Its replica outputs that disagreed with the output the others agreed on. */
  disagreed = 0;
  /** It understands `resume` in `tasks` frames (said so in `hello`). */
  resumes = false;
  /** Checkpoints kept from it in the current window (checkpoints.ts). */
  readonly checkpoints = { windowStart: -Infinity, count: 0 };
  /** Active leases, in lease order (added as issued; leases increase). */
  readonly active = new LeaseList();
  /** Expired leases still attributable to it, to fence a late result. */
  readonly expired = new LeaseList();
  /**
   * Leases it was told to cancel. A result for one is a normal race, ignored rather
   * than rejected; bounded, oldest forgotten first.
   */
  readonly revoked = new Set<Lease>();
  /** Its place in `State.hungry` (hungry.ts), when it is in: the list and its neighbours. */
  list: object | undefined = undefined;
  prevInList: WorkerRecord | undefined = undefined;
  nextInList: WorkerRecord | undefined = undefined;

  readonly id: WorkerId;
  readonly name: string;
  readonly kind: WorkerKind;
  readonly slots: number;
  readonly connectedAt: number;
  /** The volunteer it proved to be (its key's id), or its own id when unknown. */
  readonly volunteer: VolunteerId;
  /**
   * The network address it counts as for replicas: its client address, or its own id
   * when addresses are not told apart (a lab behind one NAT) or unknown.
   */
  readonly address: string;
  /** Where it runs task code, as its `hello` said (for display only). */
  readonly sandbox: WorkerSandbox | undefined;

  constructor(
    id: WorkerId,
    name: string,
    kind: WorkerKind,
    slots: number,
    connectedAt: number,
    identity: {
      volunteer?: VolunteerId | undefined;
      address?: string | undefined;
      sandbox?: WorkerSandbox | undefined;
    } = {},
  ) {
    this.id = id;
    this.name = name;
    this.kind = kind;
    this.slots = slots;
    this.connectedAt = connectedAt;
    this.volunteer = identity.volunteer || (`worker:${id}` as VolunteerId);
    this.address = identity.address || `worker:${id}`;
    this.sandbox = identity.sandbox;
  }

  /** True if `other` is the same volunteer or on the same address. */
  overlaps(other: WorkerRecord): boolean {
    return other.volunteer === this.volunteer || other.address === this.address;
  }
}

/**
 * Who reported something about a task. A report counts as independent evidence only
 * if it comes from a volunteer not seen yet, on an address not seen yet: one stranger
 * with many keys or many sockets on one address is one witness.
 */
export class Witnesses {
  readonly volunteers = new Set<VolunteerId>();
  readonly addresses = new Set<string>();

  /** True if `worker` is a new, independent witness. */
  isIndependent(worker: WorkerRecord): boolean {
    return (
      !this.volunteers.has(worker.volunteer) &&
      !this.addresses.has(worker.address)
    );
  }

  /** Adds `worker`; returns true if it was independent of those before it. */
  add(worker: WorkerRecord): boolean {
    const fresh = this.isIndependent(worker);
    this.volunteers.add(worker.volunteer);
    this.addresses.add(worker.address);
    return fresh;
  }
}

/** One output and the workers that returned it (replicated tasks only). */
export interface Vote {
  output: unknown;
  workers: WorkerId[];
  /** What each of those workers earns if this output is the one agreed on. */
  credits: Credit[];
}

/** Votes and queue membership of a replicated task that was dispatched at least once. */
export class ReplicaState {
  /** Volunteers and addresses that returned an output: each votes once. */
  readonly voters = new Witnesses();
  /** Candidate outputs by digest. */
  readonly votes = new Map<string, Vote>();
  /** Size of the largest group of equal outputs. */
  maxVotes = 0;
  /** The task has an entry in its job's re-queue deque. */
  inQueue = false;
}

/** Settings of a job derived once from its options and the scheduler's. */
export interface JobLimits {
  weight: number;
  replicas: number;
  maxAttempts: number;
  maxWorkerDeaths: number;
  /** Lease length including the grace period. */
  leaseMs: number;
  /** Dispatches without a result after which a task is failed. */
  dispatchBound: number;
  /** Stragglers at the tail get backup copies (backups.ts). */
  backups: boolean;
  /** Largest output accepted; a bigger one is a failed attempt. */
  maxOutputBytes: number;
  /** Largest checkpoint kept; a bigger one is refused. */
  maxCheckpointBytes: number;
}

/** A job and its tasks. */
export class JobRecord {
  state: JobState = 'running';
  finishedAt: number | null = null;
  /** Recent task errors, newest last. */
  readonly errors: { index: number; error: string }[] = [];
  /** When a failure of this job last went to the event feed, and failures since. */
  failureFedAt = -Infinity;
  failuresUnfed = 0;
  /** Head of each task's list of outstanding leases (active or expired), by task. */
  readonly outstanding = new WindowMap<LeaseRecord>();
  /** Re-queued tasks that should avoid the worker they last failed on. */
  readonly avoid = new Map<number, WorkerId>();
  /**
   * Open tasks with failure reports (errors, crashes, dropped workers): who reported
   * them. A task fails only once `replicas` independent witnesses did (see results.ts).
   */
  readonly reporters = new Map<number, Witnesses>();
  /** Replicated jobs only: tasks dispatched and not yet terminal. */
  readonly replicaStates: Map<number, ReplicaState> | undefined;
  /** Recent task durations: the job's typical task time (backups.ts). */
  readonly times = new TaskTimes();
  /** Backup copies issued, and those whose result was the one recorded. */
  backupsIssued = 0;
  backupsWon = 0;
  /** Open tasks with a stored checkpoint (checkpoints.ts); none until the first. */
  checkpointed: Set<number> | undefined = undefined;
  /** Dispatches that resumed from a checkpoint. */
  resumed = 0;
  /** Stride-scheduling pass (fair-share.ts) and position in its heap. */
  pass = 0;
  heapIndex = -1;

  /** Our own copy of the spec: `taskCount` and `sealed` change as inputs come. */
  readonly spec: JobSpec;
  readonly table: TaskTable;
  readonly limits: JobLimits;
  /** Submission order, to break ties deterministically. */
  readonly seq: number;

  constructor(spec: JobSpec, table: TaskTable, limits: JobLimits, seq: number) {
    this.spec = spec;
    this.table = table;
    this.limits = limits;
    this.seq = seq;
    this.replicaStates = limits.replicas > 1 ? new Map() : undefined;
  }

  get isRunning(): boolean {
    return this.state === 'running';
  }

  /** Outstanding leases of task `i`, newest first. */
  *leasesOf(i: number): IterableIterator<LeaseRecord> {
    for (let rec = this.outstanding.get(i); rec; rec = rec.nextOfTask) {
      yield rec;
    }
  }

  activeLeasesOf(i: number): number {
    let n = 0;
    for (let rec = this.outstanding.get(i); rec; rec = rec.nextOfTask) {
      if (rec.isActive) n++;
    }
    return n;
  }

  /** Records `worker` as reporting a failure of task `i`; the independent witnesses so far. */
  addReporter(i: number, worker: WorkerRecord): number {
    let w = this.reporters.get(i);
    if (w === undefined) {
      w = new Witnesses();
      this.reporters.set(i, w);
    }
    w.add(worker);
    return this.witnessCount(i);
  }

  /** Independent witnesses of task `i`'s failure (the smaller of volunteers and addresses). */
  witnessCount(i: number): number {
    const w = this.reporters.get(i);
    if (w === undefined) return 0;
    return Math.min(w.volunteers.size, w.addresses.size);
  }

  addError(index: number, error: string): void {
    this.errors.push({ index, error });
    if (this.errors.length > ERRORS_KEPT) this.errors.shift();
  }
}
