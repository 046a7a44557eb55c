/**
 * The runtime's `Store`, in cluster mode: a synchronous face over what this master
 * holds of the shared store. Inputs and tokens of claimed tasks and the modules of
 * their jobs are kept here by the cluster node before the scheduler hears of the tasks;
 * `recordResult` becomes a fenced entry of the next record batch, and `commit()` waits
 * for it. Jobs are created, sealed and read through `ClusterStore` directly (cluster
 * routes), never through this face.
 *
 * Checkpoints and the volunteers' totals are this master's own, in memory: a checkpoint
 * is kept while this master holds the task's claim (a lost claim drops it, and the task
 * starts afresh where it is claimed next); the totals count what was recorded here.
 */
import type { JobId } from '../scheduler/types.js';
import type { ClaimedTask } from '../store/postgres/cluster-store.js';
import type {
  EncodedValue,
  PurgeReport,
  RestoredJob,
  Store,
  StoredOutcome,
  StoredResult,
} from '../store/store.js';
import { MemoryLedger } from '../store/volunteer-ledger.js';
import type { RecordQueue } from './record-queue.js';

interface Held {
  token: number;
  input: EncodedValue;
}

export class ClaimedStore implements Store {
  /** This master's volunteers' totals (not shared with the other masters). */
  readonly volunteers = new MemoryLedger();
  readonly #modules = new Map<string, string>();
  /** Claims held, by job then index. */
  readonly #claims = new Map<JobId, Map<number, Held>>();
  /** Checkpoints of tasks whose claim is held, by job then index. */
  readonly #checkpoints = new Map<JobId, Map<number, EncodedValue>>();
  readonly #records: RecordQueue;
  #held = 0;

  constructor(records: RecordQueue) {
    this.#records = records;
  }

  /** Claims held now (not yet recorded or lost). */
  get held(): number {
    return this.#held;
  }

  hold(task: ClaimedTask): void {
    let byIndex = this.#claims.get(task.jobId);
    if (!byIndex) {
      byIndex = new Map();
      this.#claims.set(task.jobId, byIndex);
    }
    if (!byIndex.has(task.index)) this.#held++;
    byIndex.set(task.index, { token: task.token, input: task.input });
  }

  /** Forgets claims (taken over) and their checkpoints; returns the indices that were held. */
  drop(jobId: JobId, indices?: readonly number[]): number[] {
    if (indices === undefined) this.dropCheckpoints(jobId);
    else for (const i of indices) this.dropCheckpoints(jobId, i);
    const byIndex = this.#claims.get(jobId);
    if (!byIndex) return [];
    const dropped: number[] = [];
    for (const i of indices ?? [...byIndex.keys()]) {
      if (byIndex.delete(i)) dropped.push(i);
    }
    this.#held -= dropped.length;
    if (byIndex.size === 0) this.#claims.delete(jobId);
    return dropped;
  }

  /** Every job with claims held. */
  jobs(): JobId[] {
    return [...this.#claims.keys()];
  }

  putModule(hash: string, source: string): void {
    this.#modules.set(hash, source);
  }

  hasModule(hash: string): boolean {
    return this.#modules.has(hash);
  }

  getModule(hash: string): string | undefined {
    return this.#modules.get(hash);
  }

  getInputs(jobId: JobId, indices: readonly number[]): EncodedValue[] {
    const byIndex = this.#claims.get(jobId);
    return indices.map((i) => byIndex?.get(i)?.input ?? 'null');
  }

  recordResult(jobId: JobId, index: number, outcome: StoredOutcome): void {
    const held = this.#claims.get(jobId)?.get(index);
    if (held === undefined) return; // lost meanwhile: the new owner records it
    this.drop(jobId, [index]);
    this.#records.add({
      kind: 'outcome',
      jobId,
      index,
      token: held.token,
      outcome,
    });
  }

  commit(): Promise<void> {
    // The totals of this master's volunteers, applied as the memory store does.
    this.volunteers.apply();
    return this.#records.commit();
  }

  finishJob(): void {
    // The job's end is the shared store's business (completed there, or cancelled).
  }

  createJob(): void {
    throw new Error('cluster mode: jobs are created in the shared store');
  }

  appendInputs(): void {
    throw new Error('cluster mode: inputs are appended in the shared store');
  }

  sealJob(): void {
    throw new Error('cluster mode: jobs are sealed in the shared store');
  }

  readResults(): StoredResult[] {
    throw new Error('cluster mode: results are read from the shared store');
  }

  loadJobs(): RestoredJob[] {
    return [];
  }

  highestJobId(): number {
    return 0; // cluster job ids are not numbers counted here (cluster-jobs.ts)
  }

  purgeJob(): Promise<PurgeReport> {
    // Purges are the shared store's business (ClusterJobs.purge); nothing is kept here.
    return Promise.resolve({ steps: 0, longestStepMs: 0, longestStepCpuMs: 0 });
  }

  /**
   * Keeps the checkpoint while the task's claim is held here; one that crossed the
   * claim's loss is of no use (the task starts afresh where it is claimed next).
   */
  putCheckpoint(jobId: JobId, index: number, state: EncodedValue): void {
    if (this.#claims.get(jobId)?.has(index) !== true) return;
    let byIndex = this.#checkpoints.get(jobId);
    if (!byIndex) {
      byIndex = new Map();
      this.#checkpoints.set(jobId, byIndex);
    }
    // A copy: a view into the frame it came in would keep the whole frame alive.
    byIndex.set(index, typeof state === 'string' ? state : state.slice());
  }

  getCheckpoints(
    jobId: JobId,
    indices: readonly number[],
  ): (EncodedValue | undefined)[] {
    const byIndex = this.#checkpoints.get(jobId);
    return indices.map((i) => byIndex?.get(i));
  }

  dropCheckpoints(jobId: JobId, index?: number): void {
    const byIndex = this.#checkpoints.get(jobId);
    if (!byIndex) return;
    if (index !== undefined) byIndex.delete(index);
    if (index === undefined || byIndex.size === 0)
      this.#checkpoints.delete(jobId);
  }

  close(): void {
    this.volunteers.apply();
    this.#records.close();
  }
}
