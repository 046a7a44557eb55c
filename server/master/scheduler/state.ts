/**
 * Everything the scheduler knows, in one object that its modules share. Only code
 * reached from `Scheduler.handle()` mutates it.
 */
import { ALLOWANCE_DEFAULTS, canTake } from './allowance.js';
import { LIMITS } from '../../../shared/protocol.js';
import { FairShare } from './fair-share.js';
import { HungryWorkers } from './hungry.js';
import { ExpiryQueue } from './leases.js';
import { Outbox } from './outbox.js';
import type { JobRecord, LeaseRecord, WorkerRecord } from './records.js';
import { MAX_SMALL_COUNT } from './task-table.js';
import type {
  AllowanceOptions,
  JobId,
  SchedulerOptions,
  WorkerId,
} from './types.js';
import { WindowMap } from './window-map.js';

/** {@link SchedulerOptions} with defaults applied. */
export interface ResolvedOptions {
  leaseGraceMs: number;
  maxWorkerDeaths: number;
  maxBatch: number;
  firstLease: number;
  distinctAddresses: boolean;
  allowance: AllowanceOptions;
  cluster: boolean;
}

/** Resolves and checks the options (a bad value is a programmer error: it throws). */
export function resolveOptions(options: SchedulerOptions): ResolvedOptions {
  const resolved = {
    leaseGraceMs: options.leaseGraceMs ?? 2_000,
    maxWorkerDeaths: options.maxWorkerDeaths ?? 3,
    maxBatch: options.maxBatch ?? LIMITS.maxBatch,
    firstLease: options.firstLease ?? 1,
    distinctAddresses: options.distinctAddresses ?? true,
    allowance: { ...ALLOWANCE_DEFAULTS, ...options.allowance },
    cluster: options.cluster ?? false,
  };
  for (const [key, n] of Object.entries(resolved.allowance)) {
    if (!Number.isInteger(n) || n < 1)
      throw new RangeError(`allowance.${key} must be an integer >= 1`);
  }
  const { leaseGraceMs, maxWorkerDeaths, maxBatch } = resolved;
  if (!Number.isInteger(leaseGraceMs) || leaseGraceMs < 0) {
    throw new RangeError(`leaseGraceMs must be an integer >= 0`);
  }
  // Deaths are counted in one byte per task.
  if (
    !Number.isInteger(maxWorkerDeaths) ||
    maxWorkerDeaths < 1 ||
    maxWorkerDeaths > MAX_SMALL_COUNT
  ) {
    throw new RangeError(`maxWorkerDeaths must be an integer in 1..255`);
  }
  if (!Number.isSafeInteger(resolved.firstLease) || resolved.firstLease < 0) {
    throw new RangeError(`firstLease must be a safe integer >= 0`);
  }
  if (!Number.isInteger(maxBatch) || maxBatch < 1) {
    throw new RangeError(`maxBatch must be an integer >= 1`);
  }
  return resolved;
}

/** Credit a worker may accumulate: a bound on what one socket can hoard. */
export const MAX_CREDIT = LIMITS.maxCredit;

/** Revoked leases remembered per worker (enough to cover results already in flight). */
export const MAX_REVOKED = LIMITS.maxBatch;

/** The scheduler's whole state; see the invariants on `Scheduler`. */
export class State {
  /** The latest `at` seen: the scheduler's clock never goes back. */
  now = -Infinity;
  /** The last lease issued. */
  leaseSeq = 0;
  /** Replica outputs that disagreed with an agreed output, ever (a metric). */
  disagreements = 0;
  /** Jobs created so far (submission order). */
  jobSeq = 0;
  readonly jobs = new Map<JobId, JobRecord>();
  readonly workers = new Map<WorkerId, WorkerRecord>();
  /** Outstanding leases: active and expired ones (the latter still fence late results). */
  readonly leases = new WindowMap<LeaseRecord>();
  /** Workers with credit, in the order they are served next. */
  readonly hungry = new HungryWorkers();
  readonly expiry = new ExpiryQueue();
  readonly fair = new FairShare();
  readonly out = new Outbox();
  /** Running jobs that may get backup copies (ended ones are dropped lazily). */
  readonly backupJobs = new Set<JobRecord>();
  /** When a straggler's backup copy becomes due, if one is waiting for that. */
  backupWakeAt: number | undefined = undefined;

  readonly options: ResolvedOptions;

  constructor(options: ResolvedOptions) {
    this.options = options;
    this.leaseSeq = options.firstLease - 1;
  }

  /**
   * Keeps `hungry` equal to the connected workers that can take a task (credit and
   * room in their allowance). Adding a member again keeps its place in the rotation.
   */
  syncHungry(worker: WorkerRecord): void {
    if (canTake(worker) && this.isConnected(worker)) this.hungry.add(worker);
    else this.hungry.delete(worker);
  }

  /** True if `worker` is the connected worker of its id (not one that left). */
  isConnected(worker: WorkerRecord): boolean {
    return this.workers.get(worker.id) === worker;
  }
}
