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
import type { ClusterStore, JobRow } from '../store/postgres/cluster-store.js';
import type { EncodedValue } from '../store/store.js';

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

  async submit(body: unknown): Promise<{ id: string }> {
    const parsed = SubmitJobBody.safeParse(body);
    if (!parsed.success) {
      throw new AppError(
        ErrorCode.InvalidMessage,
        z.prettifyError(parsed.error),
      );
    }
    const { name, module, inputs, options, sealed } = parsed.data;
    const moduleHash = createHash('sha256').update(module).digest('hex');
    if ((await this.#store.getModule(moduleHash)) === undefined)
      await validateModule(module);
    const encoded = (inputs ?? []).map((input, i) => encodeInput(input, i));
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
    this.#onInputs();
    return { id: spec.id };
  }

  async view(jobId: JobId): Promise<JobView> {
    const row = await this.#store.getJob(jobId);
    if (row === undefined) throw notFound(jobId);
    return viewOf(row);
  }

  async list(limit: number): Promise<JobView[]> {
    return (await this.#store.listJobs({ limit })).map(viewOf);
  }

  /** Appends inputs as new tasks (one after another per job on this master). */
  append(jobId: JobId, inputs: readonly unknown[]): Promise<{ total: number }> {
    const encoded = inputs.map((input, i) => encodeInput(input, i));
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
}

/** Unique over masters without coordination, and sorting by creation time. */
function newJobId(now: number): string {
  return `${now.toString(36)}-${randomBytes(4).toString('hex')}`;
}

function viewOf(row: JobRow): JobView {
  return {
    spec: row.spec,
    state: row.state,
    finishedAt: row.finishedAt,
    counts: row.counts,
    errors: [],
  };
}
