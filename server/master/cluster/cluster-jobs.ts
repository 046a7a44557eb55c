/**
 * Jobs in cluster mode: submitted, appended, sealed, cancelled and read in the shared
 * store, so that any master serves any job. The local scheduler hears of a cancel at
 * once; the other masters by the store's NOTIFY hint (or their poll).
 */
import { createHash, randomBytes } from 'node:crypto';
import * as z from 'zod';
import { AppError, ErrorCode } from '../../../shared/errors.js';
import { JobOptions, SubmitJobBody } from '../../../shared/job.js';
import { encodeInput, notFound, validateModule } from '../jobs-service.js';
import type { Runtime } from '../runtime.js';
import type { JobId, JobSpec, JobView } from '../scheduler/types.js';
import type {
  ClusterStore,
  JobRow,
  ListJobsQuery,
} from '../store/postgres/cluster-store.js';
import type { EncodedValue, PurgeReport } from '../store/store.js';

/** Inputs written per call (one NOTIFY each). */
const APPEND_CHUNK = 10_000;

export class ClusterJobs {
  readonly #store: ClusterStore;
  readonly #runtime: Runtime;
  readonly #onInputs: () => void;
  readonly #appendLocks = new Map<string, Promise<unknown>>();

  constructor(store: ClusterStore, runtime: Runtime, onInputs: () => void) {
    this.#store = store;
    this.#runtime = runtime;
    this.#onInputs = onInputs;
  }

  /**
   * Validates and stores a job; resolves once it is durable.
   * @param storedInputs the inputs already in their stored form (scanned from the
   *   body's text), given instead of `body.inputs`
   */
  async submit(
    body: unknown,
    storedInputs?: EncodedValue[],
  ): Promise<{ id: JobId }> {
    const parsed = SubmitJobBody.safeParse(body);
    if (!parsed.success) {
      throw new AppError(
        ErrorCode.InvalidMessage,
        z.prettifyError(parsed.error),
      );
    }
    const { name, module, options, sealed } = parsed.data;
    const inputs = storedInputs ?? parsed.data.inputs;
    const moduleHash = createHash('sha256').update(module).digest('hex');
    if ((await this.#store.getModule(moduleHash)) === undefined)
      await validateModule(module);
    const encoded =
      storedInputs ?? (inputs ?? []).map((input, i) => encodeInput(input, i));
    const spec: JobSpec = {
      id: newJobId(this.#runtime.now()),
      name,
      moduleHash,
      options: JobOptions.parse(options ?? {}),
      taskCount: encoded.length,
      sealed: sealed ?? inputs !== undefined,
      createdAt: this.#runtime.now(),
    };
    await this.#store.putModule(moduleHash, module);
    await this.#store.createJob(spec, encoded);
    // A purge on another master may have deleted the module (then unused) between the
    // two writes: put it again now that this job uses it (a no-op when it is there).
    await this.#store.putModule(moduleHash, module);
    this.#onInputs();
    return { id: spec.id };
  }

  async view(jobId: JobId): Promise<JobView> {
    const row = await this.#store.getJob(jobId);
    if (row === undefined) throw notFound(jobId);
    return this.#viewOf(row);
  }

  /** One page of jobs, newest first, and how many jobs there are in that state. */
  async page(
    query: ListJobsQuery,
  ): Promise<{ jobs: JobView[]; total: number }> {
    const [rows, total] = await Promise.all([
      this.#store.listJobs(query),
      this.#store.countJobs(query.state),
    ]);
    return { jobs: rows.map((row) => this.#viewOf(row)), total };
  }

  /** Appends inputs already in their stored form (one after another per job here). */
  appendStored(
    jobId: JobId,
    encoded: readonly EncodedValue[],
  ): Promise<{ total: number }> {
    const previous = this.#appendLocks.get(jobId) ?? Promise.resolve();
    const run = previous.then(() => this.#appendNow(jobId, encoded));
    const settled = run.catch(() => undefined);
    this.#appendLocks.set(jobId, settled);
    void settled.then(() => {
      if (this.#appendLocks.get(jobId) === settled)
        this.#appendLocks.delete(jobId);
    });
    return run;
  }

  async #appendNow(
    jobId: JobId,
    encoded: readonly EncodedValue[],
  ): Promise<{ total: number }> {
    let total = (await this.#openJob(jobId)).counts.total;
    for (let start = 0; start < encoded.length; start += APPEND_CHUNK) {
      const chunk = encoded.slice(start, start + APPEND_CHUNK);
      await this.#store.appendInputs(jobId, total, chunk);
      total += chunk.length;
    }
    this.#onInputs();
    return { total };
  }

  async seal(jobId: JobId): Promise<{ total: number }> {
    const view = await this.#openJob(jobId);
    if (await this.#store.sealJob(jobId)) {
      this.#runtime.dispatch({
        type: 'job-completed',
        jobId,
        at: this.#runtime.now(),
      });
      this.#runtime.emit('job-finished', jobId);
    }
    return { total: view.counts.total };
  }

  async cancel(jobId: JobId): Promise<void> {
    const view = await this.view(jobId);
    if (view.state !== 'running') return;
    if (await this.#store.cancelJob(jobId)) {
      this.#runtime.dispatch({
        type: 'job-cancelled',
        jobId,
        at: this.#runtime.now(),
      });
      this.#runtime.emit('job-finished', jobId);
    }
  }

  /**
   * Deletes an ended job with its tasks, results and (unused) module from the shared
   * store; a running job is cancelled first. The database does the deleting while the
   * master waits without blocking: the report's one step is the CPU the master spent,
   * a bound on how long its event loop was held.
   */
  async purge(jobId: JobId): Promise<PurgeReport> {
    const cpu = process.cpuUsage();
    await this.cancel(jobId);
    if (!(await this.#store.purgeJob(jobId))) throw notFound(jobId);
    const runtime = this.#runtime;
    // Forget the local copy; readers here see the job gone (their streams end).
    runtime.dispatch({ type: 'job-purged', jobId, at: runtime.now() });
    runtime.emit('job-finished', jobId);
    const used = process.cpuUsage(cpu);
    const cpuMs = (used.user + used.system) / 1_000;
    return { steps: 1, longestStepMs: cpuMs, longestStepCpuMs: cpuMs };
  }

  async #openJob(jobId: JobId): Promise<JobView> {
    const view = await this.view(jobId);
    if (view.spec.sealed || view.state !== 'running') {
      throw new AppError(
        ErrorCode.JobSealed,
        `job ${jobId} is ${view.state === 'running' ? 'sealed' : view.state}: no more inputs`,
      );
    }
    return view;
  }

  /** A job as the store counts it, with this master's own errors and backups. */
  #viewOf(row: JobRow): JobView {
    const local = this.#runtime.scheduler.jobView(row.spec.id);
    return {
      spec: row.spec,
      state: row.state,
      finishedAt: row.finishedAt,
      counts: row.counts,
      errors: local?.errors ?? [],
      backups: local?.backups ?? { issued: 0, won: 0 },
      // Checkpoints are kept by the master holding the claim: this one's are shown.
      checkpoints: local?.checkpoints ?? { tasks: 0, resumed: 0 },
    };
  }
}

/** Unique over masters without coordination, and sorting by creation time. */
function newJobId(now: number): JobId {
  return `${now.toString(36)}-${randomBytes(4).toString('hex')}` as JobId;
}
