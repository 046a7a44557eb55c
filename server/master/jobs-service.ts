/**
 * Submitting, appending to, sealing and cancelling jobs: validation of what a submitter
 * sends, then the store (durable first), then the scheduler.
 */
import { createHash } from 'node:crypto';
import { build } from 'esbuild';
import * as z from 'zod';
import { AppError, ErrorCode } from '../../shared/errors.js';
import { JobOptions, SubmitJobBody } from '../../shared/job.js';
import type { Runtime } from './runtime.js';
import type { JobId, JobSpec } from './scheduler/types.js';
import type { EncodedValue, PurgeReport } from './store/store.js';
import { encodeStored } from './store/value-codec.js';
import { reviveBase64 } from '../base64-json.js';

/** Inputs written and announced to the scheduler per chunk. */
const APPEND_CHUNK = 10_000;

export class JobsService {
  #runtime: Runtime;
  #nextId: number;
  /** Appends to one job run one after another, so task indices never interleave. */
  #appendLocks = new Map<JobId, Promise<unknown>>();

  constructor(runtime: Runtime, existingIds: readonly string[]) {
    this.#runtime = runtime;
    // Purged jobs count too: an id once given is never given again.
    this.#nextId =
      existingIds.reduce(
        (max, id) => Math.max(max, Number.parseInt(id, 10) || 0),
        runtime.store.highestJobId(),
      ) + 1;
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
    const { name, description, module, options, sealed } = parsed.data;
    const inputs = storedInputs ?? parsed.data.inputs;
    const moduleHash = createHash('sha256').update(module).digest('hex');
    // A module already stored passed this check when it was first submitted.
    const { store } = this.#runtime;
    if (store.getModule(moduleHash) === undefined) await validateModule(module);
    const encoded =
      storedInputs ?? (inputs ?? []).map((input, i) => encodeInput(input, i));
    const id = String(this.#nextId++) as JobId;
    const spec: JobSpec = {
      id,
      name,
      ...(description ? { description } : {}),
      moduleHash,
      options: JobOptions.parse(options ?? {}),
      taskCount: encoded.length,
      sealed: sealed ?? inputs !== undefined,
      createdAt: this.#runtime.now(),
    };
    store.putModule(moduleHash, module);
    store.createJob(spec, encoded);
    this.#runtime.dispatch({
      type: 'job-submitted',
      job: spec,
      at: this.#runtime.now(),
    });
    return { id };
  }

  /** Appends inputs (already parsed) as new tasks; returns the new total. */
  async append(
    jobId: JobId,
    inputs: readonly unknown[],
  ): Promise<{ total: number }> {
    return this.appendStored(
      jobId,
      inputs.map((input, i) => encodeInput(input, i)),
    );
  }

  /** Appends inputs already in their stored form; returns the new total. */
  async appendStored(
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

  #appendNow(
    jobId: JobId,
    encoded: readonly EncodedValue[],
  ): { total: number } {
    const view = this.#openJob(jobId);
    let total = view.counts.total;
    for (let start = 0; start < encoded.length; start += APPEND_CHUNK) {
      const chunk = encoded.slice(start, start + APPEND_CHUNK);
      this.#runtime.store.appendInputs(jobId, total, chunk);
      total += chunk.length;
      this.#runtime.dispatch({
        type: 'inputs-appended',
        jobId,
        count: chunk.length,
        at: this.#runtime.now(),
      });
    }
    return { total };
  }

  seal(jobId: JobId): { total: number } {
    const view = this.#openJob(jobId);
    this.#runtime.store.sealJob(jobId);
    this.#runtime.dispatch({
      type: 'job-sealed',
      jobId,
      at: this.#runtime.now(),
    });
    return { total: view.counts.total };
  }

  async cancel(jobId: JobId): Promise<void> {
    const view = this.#runtime.scheduler.jobView(jobId);
    if (!view) throw notFound(jobId);
    if (view.state !== 'running') return;
    this.#runtime.dispatch({
      type: 'job-cancelled',
      jobId,
      at: this.#runtime.now(),
    });
    await this.#runtime.store.commit();
  }

  /**
   * Deletes a job with its inputs, results and (when no other job uses it) module. A
   * running job is cancelled first, and its end committed; the job is 404 as soon as the
   * scheduler forgets it, and this resolves once its rows are gone.
   */
  async purge(jobId: JobId): Promise<PurgeReport> {
    const runtime = this.#runtime;
    if (!runtime.scheduler.jobView(jobId)) throw notFound(jobId);
    await this.cancel(jobId);
    // A purge of the same job may have run while the cancel was committed.
    if (!runtime.scheduler.jobView(jobId)) throw notFound(jobId);
    runtime.dispatch({ type: 'job-purged', jobId, at: runtime.now() });
    return runtime.store.purgeJob(jobId);
  }

  #openJob(jobId: JobId) {
    const view = this.#runtime.scheduler.jobView(jobId);
    if (!view) throw notFound(jobId);
    if (view.spec.sealed || view.state !== 'running') {
      throw new AppError(
        ErrorCode.JobSealed,
        `job ${jobId} is ${view.state === 'running' ? 'sealed' : view.state}: no more inputs`,
      );
    }
    return view;
  }
}

export function notFound(jobId: string): AppError {
  return new AppError(ErrorCode.NotFound, `no job ${JSON.stringify(jobId)}`);
}

export function encodeInput(input: unknown, index: number): EncodedValue {
  try {
    // Bytes come over HTTP as {"$base64": ...}: stored, and sent to workers, as bytes.
    // Parsed JSON holds no bytes yet, so an input whose text never mentions the key is
    // stored as that text, without walking it twice.
    const text = JSON.stringify(input) as string | undefined;
    if (text !== undefined && !text.includes('"$base64"')) return text;
    return encodeStored(reviveBase64(input));
  } catch (error) {
    throw new AppError(
      ErrorCode.InvalidMessage,
      `input ${index} cannot be stored: ${(error as Error).message}`,
    );
  }
}

/**
 * Parses the module without running it (the master never executes task code) and
 * checks that it has a default export.
 */
export async function validateModule(source: string): Promise<void> {
  let exports: string[] | undefined;
  try {
    const result = await build({
      stdin: { contents: source, loader: 'js', sourcefile: 'task-module.js' },
      bundle: false,
      write: false,
      metafile: true,
      format: 'esm',
      logLevel: 'silent',
    });
    exports = Object.values(result.metafile.outputs)[0]?.exports;
  } catch (error) {
    const first = (
      error as {
        errors?: {
          text: string;
          location?: { line: number; column: number };
        }[];
      }
    ).errors?.[0];
    const where = first?.location
      ? ` (line ${first.location.line}, column ${first.location.column})`
      : '';
    throw new AppError(
      ErrorCode.InvalidModule,
      `the task module does not parse: ${first?.text ?? (error as Error).message}${where}`,
    );
  }
  if (!exports?.includes('default')) {
    throw new AppError(
      ErrorCode.InvalidModule,
      'the task module has no default export: `export default async function (input, ctx) {...}`',
    );
  }
}
