/**
 * An in-memory {@link Store} for tests and the in-memory benchmark. It keeps the same
 * contract as the SQLite store (the shared contract suite runs against both): results
 * are queued until `commit()`, the first result of a task wins, misuse throws.
 */
import type { JobState } from '../../../shared/protocol.js';
import type { JobId, JobSpec } from '../scheduler/types.js';
import { TaskMark } from '../scheduler/types.js';
import { performance } from 'node:perf_hooks';
import { MemoryLedger } from './volunteer-ledger.js';
import type {
  EncodedValue,
  PurgeReport,
  RestoredJob,
  Store,
  StoredOutcome,
  StoredResult,
} from './store.js';

interface MemoryJob {
  spec: JobSpec;
  state: JobState;
  finishedAt: number | null;
  inputs: EncodedValue[];
  /** TaskMark per task; its length is a capacity, grown by doubling. */
  marks: Uint8Array;
  /** This job's results in seq order, so that `readResults` can binary-search. */
  results: StoredResult[];
  /** Checkpoints of its tasks, by index. */
  checkpoints: Map<number, EncodedValue>;
}

interface QueuedResult {
  job: MemoryJob;
  index: number;
  outcome: StoredOutcome;
}

interface QueuedFinish {
  job: MemoryJob;
  state: 'completed' | 'cancelled';
  at: number;
}

/**
 * Keeps everything in maps and arrays. `commit()` applies the queue synchronously and
 * resolves at once: nothing is durable, but what is visible matches the SQLite store
 * (queued results are not readable before a commit).
 */
export class MemoryStore implements Store {
  #modules = new Map<string, string>();
  #jobs = new Map<JobId, MemoryJob>();
  #queuedResults: QueuedResult[] = [];
  #queuedFinishes: QueuedFinish[] = [];
  #lastSeq = 0;
  #highestId = 0;
  #closed = false;
  readonly volunteers = new MemoryLedger();

  putModule(hash: string, source: string): void {
    this.#assertOpen();
    if (!this.#modules.has(hash)) this.#modules.set(hash, source);
  }

  getModule(hash: string): string | undefined {
    return this.#modules.get(hash);
  }

  createJob(spec: JobSpec, inputs: readonly EncodedValue[]): void {
    this.#assertOpen();
    if (this.#jobs.has(spec.id))
      throw new Error(`job ${spec.id} already exists`);
    if (spec.taskCount !== inputs.length) {
      throw new RangeError(
        `job ${spec.id}: taskCount ${spec.taskCount} but ${inputs.length} inputs`,
      );
    }
    const numeric = Number(spec.id);
    if (Number.isSafeInteger(numeric))
      this.#highestId = Math.max(this.#highestId, numeric);
    this.#jobs.set(spec.id, {
      spec: copySpec(spec),
      state: 'running',
      finishedAt: null,
      inputs: inputs.map(copyValue),
      marks: new Uint8Array(Math.max(16, inputs.length)),
      results: [],
      checkpoints: new Map(),
    });
  }

  appendInputs(
    jobId: JobId,
    firstIndex: number,
    inputs: readonly EncodedValue[],
  ): void {
    this.#assertOpen();
    const job = this.#job(jobId);
    if (job.spec.sealed) throw new Error(`job ${jobId} is sealed`);
    if (firstIndex !== job.spec.taskCount) {
      throw new RangeError(
        `job ${jobId}: inputs must continue at ${job.spec.taskCount}, not ${firstIndex}`,
      );
    }
    for (const input of inputs) job.inputs.push(copyValue(input));
    job.spec.taskCount += inputs.length;
    if (job.marks.length < job.spec.taskCount) {
      const grown = new Uint8Array(
        Math.max(job.spec.taskCount, job.marks.length * 2),
      );
      grown.set(job.marks);
      job.marks = grown;
    }
  }

  sealJob(jobId: JobId): void {
    this.#assertOpen();
    this.#job(jobId).spec.sealed = true;
  }

  getInputs(jobId: JobId, indices: readonly number[]): EncodedValue[] {
    const job = this.#job(jobId);
    return indices.map((index) => {
      const input = job.inputs[index];
      if (input === undefined)
        throw new RangeError(`job ${jobId} has no input ${index}`);
      return input;
    });
  }

  recordResult(jobId: JobId, index: number, outcome: StoredOutcome): void {
    this.#assertOpen();
    const job = this.#job(jobId);
    checkIndex(jobId, index, job.spec.taskCount);
    this.#queuedResults.push({
      job,
      index,
      outcome: outcome.ok
        ? { ok: true, output: copyValue(outcome.output) }
        : { ok: false, error: outcome.error, code: outcome.code },
    });
  }

  finishJob(jobId: JobId, state: 'completed' | 'cancelled', at: number): void {
    this.#assertOpen();
    this.#queuedFinishes.push({ job: this.#job(jobId), state, at });
  }

  commit(): Promise<void> {
    this.#applyQueued();
    return Promise.resolve();
  }

  readResults(jobId: JobId, afterSeq: number, limit: number): StoredResult[] {
    const results = this.#jobs.get(jobId)?.results;
    if (results === undefined || limit <= 0) return [];
    // First position with seq > afterSeq.
    let low = 0;
    let high = results.length;
    while (low < high) {
      const mid = (low + high) >>> 1;
      if (results[mid]!.seq > afterSeq) high = mid;
      else low = mid + 1;
    }
    return results.slice(low, low + limit).map((r) => ({ ...r }));
  }

  loadJobs(): RestoredJob[] {
    return [...this.#jobs.values()].map((job) => ({
      spec: copySpec(job.spec),
      state: job.state,
      finishedAt: job.finishedAt,
      marks: job.marks.slice(0, job.spec.taskCount),
      checkpointed: [...job.checkpoints.keys()].sort((a, b) => a - b),
    }));
  }

  highestJobId(): number {
    return this.#highestId;
  }

  putCheckpoint(jobId: JobId, index: number, state: EncodedValue): void {
    this.#assertOpen();
    const job = this.#job(jobId);
    checkIndex(jobId, index, job.spec.taskCount);
    job.checkpoints.set(index, copyValue(state));
  }

  getCheckpoints(
    jobId: JobId,
    indices: readonly number[],
  ): (EncodedValue | undefined)[] {
    this.#assertOpen();
    const { checkpoints } = this.#job(jobId);
    return indices.map((i) => checkpoints.get(i));
  }

  dropCheckpoints(jobId: JobId, index?: number): void {
    this.#assertOpen();
    const { checkpoints } = this.#job(jobId);
    if (index === undefined) checkpoints.clear();
    else checkpoints.delete(index);
  }

  purgeJob(jobId: JobId): Promise<PurgeReport> {
    this.#assertOpen();
    const start = performance.now();
    const { spec } = this.#job(jobId);
    this.#jobs.delete(jobId);
    const hash = spec.moduleHash;
    const shared = [...this.#jobs.values()].some(
      (job) => job.spec.moduleHash === hash,
    );
    if (!shared) this.#modules.delete(hash);
    const ms = performance.now() - start;
    return Promise.resolve({
      steps: 1,
      longestStepMs: ms,
      longestStepCpuMs: ms,
    });
  }

  close(): void {
    if (this.#closed) return;
    this.#applyQueued();
    this.#closed = true;
  }

  #applyQueued(): void {
    this.volunteers.apply();
    const results = this.#queuedResults;
    const finishes = this.#queuedFinishes;
    this.#queuedResults = [];
    this.#queuedFinishes = [];
    for (const { job, index, outcome } of results) {
      // The first result of a task wins, as UNIQUE(job, idx) does in SQLite.
      if (job.marks[index] !== TaskMark.Open) continue;
      job.marks[index] = outcome.ok ? TaskMark.Done : TaskMark.Failed;
      job.results.push({ seq: ++this.#lastSeq, index, outcome });
    }
    for (const { job, state, at } of finishes) {
      // A finished job stays as it first finished.
      if (job.state !== 'running') continue;
      job.state = state;
      job.finishedAt = at;
    }
  }

  #job(jobId: JobId): MemoryJob {
    const job = this.#jobs.get(jobId);
    if (job === undefined) throw new Error(`no job ${jobId}`);
    return job;
  }

  #assertOpen(): void {
    if (this.#closed) throw new Error('the store is closed');
  }
}

function checkIndex(jobId: JobId, index: number, taskCount: number): void {
  if (!Number.isInteger(index) || index < 0 || index >= taskCount) {
    throw new RangeError(
      `job ${jobId} has no task ${index} (taskCount ${taskCount})`,
    );
  }
}

function copySpec(spec: JobSpec): JobSpec {
  return { ...spec, options: { ...spec.options } };
}

/** SQLite copies bytes on write; copying here keeps a caller's later mutation out. */
function copyValue(value: EncodedValue): EncodedValue {
  return typeof value === 'string' ? value : value.slice();
}
