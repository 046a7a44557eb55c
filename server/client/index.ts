/**
 * The submit API (used by the CLI and the examples): bundle a task module, submit a job,
 * append inputs, watch progress, stream results.
 */
import { createReadStream } from 'node:fs';
import { createRequire } from 'node:module';
import type { IncomingMessage } from 'node:http';
import { createInterface } from 'node:readline';
import type WebSocket from 'ws';
import { AppError, ErrorCode } from '../../shared/errors.js';
import { JsonScanner, scanJson } from '../../shared/json-scan.js';
import { reviveBase64, toJsonText } from '../base64-json.js';
import {
  jsonBodyWithInputs,
  ndjsonBody,
  type BodyBytes,
} from './request-body.js';
import type { JobOptionsInput, ResultLine } from '../../shared/job.js';
import type {
  Delta,
  JobSummary,
  Snapshot,
  WorkerSummary,
} from '../../shared/protocol.js';

export type { ResultLine, JobSummary, WorkerSummary };
export { bundleModule } from './bundle.js';

export interface ClientOptions {
  /** @defaultValue http://127.0.0.1:8080 */
  url?: string;
  token?: string;
}

export interface SubmitOptions {
  name: string;
  /** What the job is for, shown to volunteers as plain text. */
  description?: string;
  /** Bundled module source (see `bundleModule`). */
  module: string;
  inputs?: readonly unknown[];
  options?: Partial<JobOptionsInput>;
  /** @defaultValue true when `inputs` is given */
  sealed?: boolean;
}

export interface JobDetail extends JobSummary {
  elapsedMs: number;
  options: Required<JobOptionsInput>;
}

/** Inputs per append request when streaming a file. */
const APPEND_BATCH = 10_000;

export class ColonyClient {
  readonly url: string;
  #token: string | undefined;

  constructor(options: ClientOptions = {}) {
    this.url = (options.url ?? 'http://127.0.0.1:8080').replace(/\/+$/, '');
    this.#token = options.token;
  }

  async submit(job: SubmitOptions): Promise<{ id: string }> {
    const head = {
      name: job.name,
      ...(job.description ? { description: job.description } : {}),
      module: job.module,
    };
    const tail = {
      ...(job.options ? { options: job.options } : {}),
      ...(job.sealed !== undefined ? { sealed: job.sealed } : {}),
    };
    return this.#json('POST', '/api/jobs', {
      body: job.inputs
        ? jsonBodyWithInputs(head, job.inputs, tail)
        : toJsonText({ ...head, ...tail }),
      contentType: 'application/json',
    });
  }

  async append(
    jobId: string,
    inputs: readonly unknown[],
  ): Promise<{ total: number }> {
    return this.#json('POST', `/api/jobs/${enc(jobId)}/inputs`, {
      body: ndjsonBody(inputs),
      contentType: 'application/x-ndjson',
    });
  }

  /**
   * Streams a `.jsonl`/`.ndjson` file into a job in batches: the file is never held in
   * memory whole. Calls `onBatch` with the running total. Returns the number appended.
   */
  async appendFile(
    jobId: string,
    file: string,
    onBatch?: (total: number) => void,
  ): Promise<number> {
    const lines = createInterface({
      input: createReadStream(file),
      crlfDelay: Infinity,
    });
    let batch: string[] = [];
    let count = 0;
    let lineNo = 0;
    const sendBatch = async () => {
      if (batch.length === 0) return;
      await this.#json('POST', `/api/jobs/${enc(jobId)}/inputs`, {
        body: batch.join('\n'),
        contentType: 'application/x-ndjson',
      });
      count += batch.length;
      batch = [];
      onBatch?.(count);
    };
    const scanner = new JsonScanner();
    for await (const line of lines) {
      lineNo++;
      const trimmed = line.trim();
      if (!trimmed) continue;
      // Checked without building the value: the line is sent as it is.
      if (!scanJson(trimmed, scanner).ok) {
        throw new AppError(
          ErrorCode.InvalidArgument,
          `${file}:${lineNo} is not JSON`,
        );
      }
      batch.push(trimmed);
      if (batch.length >= APPEND_BATCH) await sendBatch();
    }
    await sendBatch();
    return count;
  }

  async seal(jobId: string): Promise<{ total: number }> {
    return this.#json('POST', `/api/jobs/${enc(jobId)}/seal`, {});
  }

  async job(jobId: string): Promise<JobDetail> {
    return this.#json('GET', `/api/jobs/${enc(jobId)}`, {});
  }

  /** The latest jobs, newest first (the master's default page: 50). */
  async jobs(): Promise<JobSummary[]> {
    return (await this.jobPage()).jobs;
  }

  /**
   * One page of jobs, newest first; `nextBefore` is the cursor of the next page (from
   * the `Link` header), `total` every job in that state (`X-Total-Count`).
   */
  async jobPage(
    query: { limit?: number; before?: string; status?: string } = {},
  ): Promise<{ jobs: JobSummary[]; total: number; nextBefore?: string }> {
    const params = new URLSearchParams();
    for (const [key, value] of Object.entries(query))
      if (value !== undefined) params.set(key, String(value));
    const search = params.size > 0 ? `?${params.toString()}` : '';
    const response = await this.#fetch('GET', `/api/jobs${search}`, {});
    const jobs = JSON.parse(await readText(response)) as JobSummary[];
    const link = /[?&]before=([^&>]+)[^>]*>;\s*rel="next"/.exec(
      String(response.headers.link ?? ''),
    );
    const total = Number(response.headers['x-total-count'] ?? jobs.length);
    return {
      jobs,
      total,
      ...(link?.[1] ? { nextBefore: decodeURIComponent(link[1]) } : {}),
    };
  }

  async workers(): Promise<WorkerSummary[]> {
    return this.#json('GET', '/api/workers', {});
  }

  async cancel(jobId: string): Promise<JobDetail> {
    return this.#json('DELETE', `/api/jobs/${enc(jobId)}`, {});
  }

  /** Deletes the job with its inputs and results (cancelled first if it runs). */
  async purge(jobId: string): Promise<{
    id: string;
    purged: true;
    steps: number;
    longestStepMs: number;
    longestStepCpuMs: number;
  }> {
    return this.#json('DELETE', `/api/jobs/${enc(jobId)}?purge=1`, {});
  }

  /**
   * Results as they are committed. With `follow`, the stream stays open until the job
   * ends, so a caller learns of the end at once, without polling.
   */
  async *results(
    jobId: string,
    options: { follow?: boolean } = {},
  ): AsyncGenerator<ResultLine> {
    for await (const lines of this.resultLines(jobId, options))
      for (const line of lines) yield withCode(parseLine(line));
  }

  /**
   * The results NDJSON as it arrives, a batch of raw lines at a time (bytes still as
   * `{"$base64": ...}`): for writing results out without a parse and a yield per line.
   */
  async *resultLines(
    jobId: string,
    options: { follow?: boolean } = {},
  ): AsyncGenerator<string[]> {
    const response = await this.#fetch(
      'GET',
      `/api/jobs/${enc(jobId)}/results${options.follow ? '?follow=1' : ''}`,
      {},
    );
    const decoder = new TextDecoder();
    let buffered = '';
    for await (const chunk of response as AsyncIterable<Uint8Array>) {
      buffered += decoder.decode(chunk, { stream: true });
      const end = buffered.lastIndexOf('\n');
      if (end < 0) continue;
      const lines = buffered.slice(0, end).split('\n');
      buffered = buffered.slice(end + 1);
      yield lines.filter((line) => line.length > 0);
    }
  }

  /** Submits a job and waits for every result; outputs come back in task order. */
  async run(job: SubmitOptions & { inputs: readonly unknown[] }): Promise<{
    id: string;
    results: ResultLine[];
  }> {
    const { id } = await this.submit(job);
    const results = new Array<ResultLine>(job.inputs.length);
    for await (const line of this.results(id, { follow: true }))
      results[line.index] = line;
    return { id, results };
  }

  /**
   * Subscribes to the live feed (the dashboard's): a snapshot, then deltas. Returns a
   * function that closes the subscription.
   */
  watch(
    onMessage: (message: Snapshot | Delta) => void,
    onClose?: () => void,
  ): () => void {
    // Required here, synchronously: only watching needs ws, and loading it slows every
    // other command's start.
    const WebSocketClass = createRequire(import.meta.url)(
      'ws',
    ) as typeof WebSocket;
    const socket = new WebSocketClass(`${this.url.replace(/^http/, 'ws')}/ws`, {
      perMessageDeflate: false,
    });
    // The schemas too load only for watching; every handler waits on the same promise,
    // so messages and the close keep their order.
    const protocol = import('../../shared/protocol.js');
    socket.on('open', () => {
      void protocol.then(({ PROTOCOL_VERSION }) =>
        socket.send(
          JSON.stringify({ type: 'watch', protocol: PROTOCOL_VERSION }),
        ),
      );
    });
    socket.on('message', (data) => {
      const text = data.toString();
      void protocol.then(({ decodeDashboardMessage }) => {
        const decoded = decodeDashboardMessage(text);
        if (
          decoded.ok &&
          (decoded.value.type === 'snapshot' || decoded.value.type === 'delta')
        ) {
          onMessage(decoded.value);
        }
      });
    });
    socket.on('error', () => undefined);
    socket.on('close', () => {
      void protocol.then(() => onClose?.());
    });
    return () => socket.close(1000);
  }

  async #json<T>(
    method: string,
    path: string,
    init: { body?: string | BodyBytes; contentType?: string },
  ): Promise<T> {
    const response = await this.#fetch(method, path, init);
    return JSON.parse(await readText(response)) as T;
  }

  /**
   * What to do about a refused request, in the client's terms: the master's own message
   * speaks of the HTTP header, which a user of the CLI or of this class never wrote.
   */
  #tokenAdvice(): string {
    return this.#token
      ? 'the master refused this token: give the one `colony master` printed (--token, or COLONY_TOKEN)'
      : "this needs the master's token: give the one `colony master` printed (--token, or COLONY_TOKEN)";
  }

  /**
   * One request with node:http rather than the global fetch: loading fetch's HTTP stack
   * (undici) takes longer than the rest of a `colony status`.
   */
  async #fetch(
    method: string,
    path: string,
    init: { body?: string | BodyBytes; contentType?: string },
  ): Promise<IncomingMessage> {
    const headers: Record<string, string> = {};
    if (this.#token) headers.authorization = `Bearer ${this.#token}`;
    if (init.contentType) headers['content-type'] = init.contentType;
    const url = new URL(`${this.url}${path}`);
    const { request } =
      url.protocol === 'https:'
        ? await import('node:https')
        : await import('node:http');
    let response: IncomingMessage;
    const { body } = init;
    try {
      response = await new Promise<IncomingMessage>((resolve, reject) => {
        const req = request(url, { method, headers }, resolve);
        req.on('error', reject);
        // A lent buffer is given back once the request is over (sent or failed).
        if (typeof body === 'object') req.on('close', body.release);
        // Sent as bytes: a big body written as a string costs several times more
        // (measured: 15 MB of records, 290 ms as a string, 60 ms as a Buffer).
        req.end(
          body === undefined
            ? undefined
            : typeof body === 'string'
              ? Buffer.from(body, 'utf8')
              : body.bytes,
        );
      });
    } catch (error) {
      throw new AppError(
        ErrorCode.Unreachable,
        `cannot reach the master at ${this.url} (${(error as Error).message}); is \`colony master\` running?`,
      );
    }
    const status = response.statusCode ?? 0;
    if (status < 200 || status > 299) {
      let body: { error?: { code?: ErrorCode; message?: string } } | null;
      try {
        body = JSON.parse(await readText(response)) as typeof body;
      } catch {
        body = null;
      }
      const code = body?.error?.code ?? ErrorCode.Internal;
      throw new AppError(
        code,
        code === ErrorCode.Unauthorized
          ? this.#tokenAdvice()
          : (body?.error?.message ?? `${method} ${path}: HTTP ${status}`),
      );
    }
    return response;
  }
}

/** One results line; bytes are looked for only where a `$base64` key may be spelt. */
function parseLine(line: string): ResultLine {
  const value: unknown = JSON.parse(line);
  const bytes = line.includes('$base64') || line.includes('\\u');
  return (bytes ? reviveBase64(value) : value) as ResultLine;
}

/** A failure from a master older than failure codes reads as the commonest kind. */
function withCode(line: ResultLine): ResultLine {
  if (line.ok || typeof line.code === 'string') return line;
  return { ...line, code: ErrorCode.TaskFailed };
}

/** A response's whole body as text. */
async function readText(response: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of response) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

function enc(id: string): string {
  return encodeURIComponent(id);
}
