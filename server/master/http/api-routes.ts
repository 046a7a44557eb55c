/**
 * The API under `/api` (the HTTP API table of SPEC.md): jobs, their inputs and
 * results, and the connected workers. Routes marked with the token check need
 * `Authorization: Bearer <token>`.
 */
import { AppError, ErrorCode } from '../../../shared/errors.js';
import {
  parseJson,
  readBody,
  requireMediaType,
  requireToken,
  sendJson,
} from '../http-util.js';
import { notFound } from '../jobs-service.js';
import type { HttpOptions } from './options.js';
import { streamResults } from './results-stream.js';
import type { Route, RouteContext } from './router.js';

const NDJSON_TYPES = [
  'application/x-ndjson',
  'application/jsonl',
  'application/json-lines',
];

export function apiRoutes(options: HttpOptions): Route[] {
  const { runtime, jobs, feed, token } = options;

  const jobDetail = (jobId: string) => {
    const view = runtime.scheduler.jobView(jobId);
    if (!view) throw notFound(jobId);
    const summary = feed.jobSummary(view);
    const end = view.finishedAt ?? runtime.now();
    return {
      ...summary,
      options: view.spec.options,
      elapsedMs: end - view.spec.createdAt,
    };
  };

  const listJobs = ({ res }: RouteContext) => {
    const summaries = runtime.scheduler
      .jobViews()
      .map((view) => feed.jobSummary(view));
    sendJson(res, 200, summaries);
  };

  const submitJob = async ({ req, res }: RouteContext) => {
    requireToken(req, token);
    requireMediaType(req, ['application/json']);
    const body = parseJson(
      (await readBody(req, options.maxBodyBytes)).toString('utf8'),
    );
    const created = await jobs.submit(body);
    // The store committed inside submit(): 201 means durable.
    sendJson(res, 201, created);
  };

  const getJob = ({ res, params }: RouteContext) => {
    sendJson(res, 200, jobDetail(params.id!));
  };

  const cancelJob = async ({ req, res, params }: RouteContext) => {
    requireToken(req, token);
    await jobs.cancel(params.id!);
    sendJson(res, 200, jobDetail(params.id!));
  };

  const appendInputs = async ({ req, res, params }: RouteContext) => {
    requireToken(req, token);
    requireMediaType(req, NDJSON_TYPES);
    const text = (await readBody(req, options.maxBodyBytes)).toString('utf8');
    sendJson(res, 200, await jobs.append(params.id!, parseNdjson(text)));
  };

  const sealJob = ({ req, res, params }: RouteContext) => {
    requireToken(req, token);
    sendJson(res, 200, jobs.seal(params.id!));
  };

  const results = ({ req, res, url, params }: RouteContext) => {
    requireToken(req, token);
    const follow = url.searchParams.get('follow') === '1';
    return streamResults(runtime, req, res, params.id!, follow);
  };

  const listWorkers = ({ res }: RouteContext) => {
    const workers = runtime.scheduler.workerViews().map((view) => ({
      ...feed.workerSummary(view),
      address: options.gateway().addressOf(view.id) ?? '',
    }));
    sendJson(res, 200, workers);
  };

  return [
    { method: 'GET', path: '/api/jobs', handler: listJobs },
    { method: 'POST', path: '/api/jobs', handler: submitJob },
    { method: 'GET', path: '/api/jobs/:id', handler: getJob },
    { method: 'DELETE', path: '/api/jobs/:id', handler: cancelJob },
    { method: 'POST', path: '/api/jobs/:id/inputs', handler: appendInputs },
    { method: 'POST', path: '/api/jobs/:id/seal', handler: sealJob },
    { method: 'GET', path: '/api/jobs/:id/results', handler: results },
    { method: 'GET', path: '/api/workers', handler: listWorkers },
  ];
}

/** One JSON value per non-blank line; a bad line refuses the whole body. */
export function parseNdjson(text: string): unknown[] {
  const inputs: unknown[] = [];
  let line = 0;
  for (const raw of text.split('\n')) {
    line++;
    const trimmed = raw.trim();
    if (!trimmed) continue;
    try {
      inputs.push(JSON.parse(trimmed));
    } catch (error) {
      throw new AppError(
        ErrorCode.InvalidMessage,
        `line ${line} is not JSON (${(error as Error).message}); nothing was appended`,
      );
    }
  }
  return inputs;
}
