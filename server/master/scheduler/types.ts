/**
 * The scheduler's vocabulary: events in (past tense, each with its time `at`),
 * commands out (imperative). The shell (runtime + gateway + store) turns socket frames
 * and HTTP calls into events, and carries out the commands.
 */
import type { ErrorCode, CloseCode } from '../../../shared/errors.js';
import type { JobOptions } from '../../../shared/job.js';
import type {
  FailureKind,
  FeedEvent,
  JobId,
  JobState,
  Lease,
  VolunteerId,
  WorkerId,
  WorkerKind,
  WorkerSandbox,
} from '../../../shared/protocol.js';

/**
 * Branded ids (shared/protocol.ts): a Lease is unique and increasing across the
 * master's life; a VolunteerId is who a worker proved to be.
 */
export type { JobId, Lease, VolunteerId, WorkerId };

/** Tasks credited to one volunteer (credit.ts): one, or a batch's merged. */
export interface Credit {
  /** The volunteer's id (a short hash of its public key). */
  volunteer: string;
  kind: WorkerKind;
  name: string;
  /** Recorded tasks this credit stands for. */
  tasks: number;
  /** The tasks' busy time as their threads measured it, each bounded by its lease's age. */
  busyMs: number;
}

/** A job as the scheduler needs it; inputs and the module live in the store. */
export interface JobSpec {
  id: JobId;
  name: string;
  /** Public description for volunteers (plain text); absent when none was given. */
  description?: string;
  moduleHash: string;
  options: JobOptions;
  /** Number of inputs known so far (tasks 0..taskCount-1). */
  taskCount: number;
  /** No more inputs will come; the job can complete. */
  sealed: boolean;
  createdAt: number;
}

/**
 * Per-task marks of a restored job: 0 open, 1 done, 2 failed; 3 elsewhere (cluster
 * mode: another master owns the task, or nobody has claimed it yet).
 */
export const TaskMark = { Open: 0, Done: 1, Failed: 2, Elsewhere: 3 } as const;

/** One result as received from a worker, already validated. */
export type ReceivedResult =
  | {
      lease: Lease;
      ok: true;
      output: unknown;
      /**
       * Canonical digest of the output, compared across replicas; when absent, a text
       * output is its own (results.ts `digestOf`), so the common case builds none.
       */
      digest?: string | undefined;
      /** Size of the output as stored, checked against `maxOutputBytes`. @defaultValue 0 */
      bytes?: number;
      /** The task's busy time as the worker reported it (see credit.ts). */
      busyMs?: number | undefined;
    }
  | { lease: Lease; ok: false; error: string; kind: FailureKind };

export type SchedulerEvent =
  | { type: 'job-submitted'; job: JobSpec; at: number }
  | {
      type: 'job-restored';
      job: JobSpec;
      state: JobState;
      finishedAt: number | null;
      /** One byte per task (TaskMark). Length = job.taskCount. */
      marks: Uint8Array;
      /** Tasks that have a stored checkpoint. @defaultValue none */
      checkpointed?: readonly number[];
      at: number;
    }
  | { type: 'inputs-appended'; jobId: JobId; count: number; at: number }
  | { type: 'job-sealed'; jobId: JobId; at: number }
  | { type: 'job-cancelled'; jobId: JobId; at: number }
  /** Forget an ended job (its rows are being deleted); a running job is kept. */
  | { type: 'job-purged'; jobId: JobId; at: number }
  | {
      type: 'worker-joined';
      workerId: WorkerId;
      kind: WorkerKind;
      name: string;
      slots: number;
      /** The volunteer it proved to be at `hello` (a short hash of its public key). */
      volunteer?: VolunteerId;
      /** The network address it connects from (client-address.ts). */
      address?: string;
      /** Where it runs task code, as its `hello` claimed (shown, never trusted). */
      sandbox?: WorkerSandbox;
      /** It understands `resume` (tasks that start from a checkpoint). @defaultValue false */
      resumes?: boolean;
      /** It asked for `standing` frames (the shell sends them; see standings.ts). */
      wantsStanding?: boolean;
      at: number;
    }
  | {
      type: 'worker-left';
      workerId: WorkerId;
      /** Closed cleanly (1000/1001) rather than dropped, killed or timed out. */
      clean: boolean;
      at: number;
    }
  | { type: 'credit-granted'; workerId: WorkerId; credit: number; at: number }
  | {
      type: 'results-received';
      workerId: WorkerId;
      results: readonly ReceivedResult[];
      at: number;
    }
  /**
   * A task's checkpoint (`ctx.checkpoint`), `bytes` long as stored; `state` is opaque
   * to the scheduler and comes back in `save-checkpoint` if it is kept.
   */
  | {
      type: 'checkpoint-received';
      workerId: WorkerId;
      lease: Lease;
      bytes: number;
      state: unknown;
      at: number;
    }
  | { type: 'tick'; at: number }
  /** Cluster mode: this master claimed these tasks in the shared store. */
  | {
      type: 'tasks-claimed';
      job: JobSpec;
      tasks: readonly ClaimedTaskInfo[];
      at: number;
    }
  /** Cluster mode: these claims were taken over; the tasks are not ours any more. */
  | {
      type: 'tasks-lost';
      jobId: JobId;
      indices: readonly number[];
      at: number;
    }
  /** Cluster mode: the shared store completed the job (its last task ended somewhere). */
  | { type: 'job-completed'; jobId: JobId; at: number };

/** A claimed task with the counts its earlier owners saved. */
export interface ClaimedTaskInfo {
  index: number;
  attempts: number;
  deaths: number;
}

/** What the scheduler hands to a worker; the shell adds module, timeout and input. */
export interface Assignment {
  jobId: JobId;
  index: number;
  lease: Lease;
  attempt: number;
  /** The task starts from its stored checkpoint (the shell adds it to the frame). */
  resume?: true;
}

export type RecordedOutcome =
  { ok: true; output: unknown } | { ok: false; error: string; code: ErrorCode };

export type Command =
  | { type: 'assign'; workerId: WorkerId; tasks: Assignment[] }
  | { type: 'cancel-leases'; workerId: WorkerId; leases: Lease[] }
  /**
   * Add these tasks to the volunteers' totals: each recorded success earns its
   * credit once (credit.ts). One command per `handle()` call at most, emitted just
   * before the first `record` it pays for, with the credits of the call merged per
   * volunteer (and kind and name).
   */
  | { type: 'credit'; credits: Credit[] }
  /** Write the task's one result (emitted at most once per task, ever). */
  | { type: 'record'; jobId: JobId; index: number; outcome: RecordedOutcome }
  /** Tell the worker its result was refused (error frame; the socket stays open). */
  | {
      type: 'reject-result';
      workerId: WorkerId;
      lease: Lease;
      code: ErrorCode;
      message: string;
    }
  | { type: 'disconnect'; workerId: WorkerId; code: CloseCode; reason: string }
  | {
      type: 'job-finished';
      jobId: JobId;
      state: 'completed' | 'cancelled';
      at: number;
    }
  /** Keep this state as the task's checkpoint, replacing the one before. */
  | { type: 'save-checkpoint'; jobId: JobId; index: number; state: unknown }
  /** Drop the task's checkpoint (its outcome is recorded), or all of the job's (it ended). */
  | { type: 'drop-checkpoints'; jobId: JobId; index?: number }
  /** A line for the dashboard's event feed. */
  | { type: 'feed'; event: FeedEvent };

/** What one worker may hold at once (see allowance.ts). */
export interface AllowanceOptions {
  /** Tasks per slot a new worker may hold. */
  startPerSlot: number;
  /** Tasks per slot a worker may grow to hold. */
  maxPerSlot: number;
  /** Cap on what any worker may hold. */
  maxHeld: number;
}

export interface SchedulerOptions {
  /** Extra time past `timeoutMs` before the master expires a lease, so that the worker's own kill report usually arrives first. @defaultValue 2 000 */
  leaseGraceMs?: number;
  /** Crashes (thread killed: exit, OOM, past its lease) before a task is failed. @defaultValue 3 */
  maxWorkerDeaths?: number;
  /** Most tasks in one `assign` command. @defaultValue 10 000 (protocol LIMITS.maxBatch) */
  maxBatch?: number;
  /**
   * The first lease number. The shell seeds it from the clock so that fencing tokens of
   * a restarted master never repeat those a worker may still hold. @defaultValue 1
   */
  firstLease?: number;
  /**
   * Replicas of a task go to distinct network addresses, and a failure needs reports
   * from distinct addresses. Off, each worker counts as an address of its own (a lab
   * behind one NAT, tests on loopback); volunteers must still differ. @defaultValue true
   */
  distinctAddresses?: boolean;
  /**
   * What one worker may hold at once, whatever credit it grants (see allowance.ts).
   * @defaultValue 2 per slot at first, +2 per result, up to min(1 024 per slot, 4 096)
   */
  allowance?: Partial<AllowanceOptions>;
  /**
   * Cluster mode: tasks are open only once claimed (`tasks-claimed`); the job's end
   * comes from the shared store (`job-completed`), never from the local counts.
   * @defaultValue false
   */
  cluster?: boolean;
}

/** Read-only views for the HTTP API and the dashboard (the shell adds rates). */
export interface JobView {
  spec: JobSpec;
  state: JobState;
  finishedAt: number | null;
  counts: {
    total: number;
    queued: number;
    running: number;
    done: number;
    failed: number;
  };
  /** The last few task errors, newest last. */
  errors: { index: number; error: string }[];
  /** Backup copies of stragglers issued, and those whose result was recorded. */
  backups: { issued: number; won: number };
  /** Open tasks with a checkpoint, and dispatches that resumed from one. */
  checkpoints: { tasks: number; resumed: number };
}

export interface WorkerView {
  id: WorkerId;
  name: string;
  kind: WorkerKind;
  slots: number;
  inFlight: number;
  /** Results of this worker that were recorded. */
  done: number;
  /** Its replica outputs that disagreed with an agreed output. */
  disagreed: number;
  /** The volunteer it proved to be ('' for none). */
  volunteer: string;
  connectedAt: number;
  /** Where it runs task code, as it said (absent if it did not). */
  sandbox?: WorkerSandbox;
}

/** An active lease: the task it runs and the worker that holds it. */
export interface LeaseInfo {
  jobId: JobId;
  index: number;
  workerId: WorkerId;
}
