/**
 * The runtime's `Store`, in cluster mode: a synchronous face over what this master
 * holds of the shared store. Inputs and tokens of claimed tasks and the modules of
 * their jobs are kept here by the cluster node before the scheduler hears of the tasks;
 * `recordResult` becomes a fenced entry of the next record batch, and `commit()` waits
 * for it. Jobs are created, sealed and read through `ClusterStore` directly (cluster
 * routes), never through this face.
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
import type { RecordQueue } from './record-queue.js';

interface Held {
  token: number;
  input: EncodedValue;
}

export class ClaimedStore implements Store {
  readonly #modules = new Map<string, string>();
  /** Claims held, by job then index. */
  readonly #claims = new Map<JobId, Map<number, Held>>();
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

  /** Forgets claims (taken over); returns the indices that were held. */
  drop(jobId: JobId, indices?: readonly number[]): number[] {
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

  close(): void {
    this.#records.close();
  }
}
