/**
 * The API under `/api` (the HTTP API table of SPEC.md): jobs, their inputs and
 * results, and the connected workers. Routes marked with the token check need
 * `Authorization: Bearer <token>`.
 */
import * as z from 'zod';
import { AppError, ErrorCode } from '../../../shared/errors.js';
import { requireMediaType, requireToken, sendJson } from '../http-util.js';
import { JobId } from '../../../shared/protocol.js';
import { scanNdjsonBytes, scanSubmitBytes } from '../input-pieces.js';
import { notFound } from '../jobs-service.js';
import { VolunteerQuery } from '../../../shared/volunteers.js';
import type { Runtime } from '../runtime.js';
import type { HttpOptions } from './options.js';
import { readLentBody, type LentBody } from './request-body.js';
import { streamResults } from './results-stream.js';
import type { Route, RouteContext } from './router.js';

const NDJSON_TYPES = [
  'application/x-ndjson',
  'application/jsonl',
  'application/json-lines',
];

/** The job id of a `/api/jobs/:id/...` path: one that is no job id names no job. */
export function jobIdOf(params: RouteContext['params']): JobId {
  const parsed = JobId.safeParse(params.id);
  if (!parsed.success) throw notFound(params.id ?? '');
  return parsed.data;
}

/** What `read` makes of a lent body (decoded in pieces): the body is then given back. */
function readLent<T>(body: LentBody, read: (bytes: Buffer) => T): T {
  try {
    return read(body.bytes);
  } finally {
    body.release();
  }
}

export function apiRoutes(options: HttpOptions): Route[] {
  const { runtime, jobs, feed, token } = options;

  const jobDetail = (jobId: JobId) => {
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

  const listJobs = ({ res, url }: RouteContext) => {
    const query = parseJobsQuery(url.searchParams);
    const page = runtime.scheduler.jobPage(query);
    const last = page.jobs.at(-1);
    res.setHeader('x-total-count', String(page.total));
    if (last !== undefined && page.jobs.length === query.limit) {
      const next = new URLSearchParams({
        limit: String(query.limit),
        before: last.spec.id,
        ...(query.state ? { status: query.state } : {}),
      });
      res.setHeader('link', `</api/jobs?${next.toString()}>; rel="next"`);
    }
    sendJson(
      res,
      200,
      page.jobs.map((view) => feed.jobSummary(view)),
    );
  };

  const submitJob = async ({ req, res }: RouteContext) => {
    requireToken(req, token);
    requireMediaType(req, ['application/json']);
    const { body, inputs } = readLent(
      await readLentBody(req, options.maxBodyBytes),
      (bytes) => scanSubmitBytes(bytes),
    );
    const created = await jobs.submit(body, inputs);
    // The store committed inside submit(): 201 means durable.
    sendJson(res, 201, created);
  };

  const getJob = async ({ res, params }: RouteContext) => {
    const id = jobIdOf(params);
    // The scheduler knows of a job's end before the group commit (up to a few ms later):
    // a job is shown ended once its end is durable, so a client that then reads its
    // results finds every one of them.
    const view = runtime.scheduler.jobView(id);
    if (view && view.state !== 'running' && !runtime.isFinishedDurably(id))
      await runtime.store.commit();
    sendJson(res, 200, jobDetail(id));
  };

  const cancelJob = async ({ req, res, url, params }: RouteContext) => {
    requireToken(req, token);
    const id = jobIdOf(params);
    if (url.searchParams.get('purge') === '1') {
      // The report says what the purge cost the event loop: steps, longest step.
      const { steps, longestStepMs, longestStepCpuMs } = await jobs.purge(id);
      sendJson(res, 200, {
        id,
        purged: true,
        steps,
        longestStepMs: Math.round(longestStepMs * 10) / 10,
        longestStepCpuMs: Math.round(longestStepCpuMs * 10) / 10,
      });
      return;
    }
    await jobs.cancel(id);
    sendJson(res, 200, jobDetail(id));
  };

  const appendInputs = async ({ req, res, params }: RouteContext) => {
    requireToken(req, token);
    requireMediaType(req, NDJSON_TYPES);
    const inputs = readLent(
      await readLentBody(req, options.maxBodyBytes),
      (bytes) => scanNdjsonBytes(bytes),
    );
    sendJson(res, 200, await jobs.appendStored(jobIdOf(params), inputs));
  };

  const sealJob = ({ req, res, params }: RouteContext) => {
    requireToken(req, token);
    sendJson(res, 200, jobs.seal(jobIdOf(params)));
  };

  const results = ({ req, res, url, params }: RouteContext) => {
    requireToken(req, token);
    const follow = url.searchParams.get('follow') === '1';
    return streamResults(runtime, req, res, jobIdOf(params), follow);
  };

  const listWorkers = ({ res }: RouteContext) => {
    const workers = runtime.scheduler.workerViews().map((view) => ({
      ...feed.workerSummary(view),
      address: options.gateway().addressOf(view.id) ?? '',
    }));
    sendJson(res, 200, workers);
  };

  return [
    {
      method: 'GET',
      path: '/api/volunteers',
      handler: volunteersHandler(runtime),
    },
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

/** A page of volunteers' totals, in the order asked (`x-total-count`, `link` next). */
export function volunteersHandler(runtime: Runtime) {
  return ({ res, url }: RouteContext) => {
    const parsed = VolunteerQuery.safeParse(
      Object.fromEntries(url.searchParams),
    );
    if (!parsed.success) {
      throw new AppError(
        ErrorCode.InvalidArgument,
        `bad query for /api/volunteers: ${z.prettifyError(parsed.error)}`,
      );
    }
    const query = parsed.data;
    const page = runtime.store.volunteers.page(query);
    res.setHeader('x-total-count', String(page.total));
    const offset = query.offset + page.volunteers.length;
    if (page.volunteers.length === query.limit && offset < page.total) {
      const next = new URLSearchParams({
        sort: query.sort,
        limit: String(query.limit),
        offset: String(offset),
      });
      res.setHeader('link', `</api/volunteers?${next.toString()}>; rel="next"`);
    }
    sendJson(res, 200, page.volunteers);
  };
}

/** `GET /api/jobs`: a page of 50 jobs unless asked for another size, 500 at most. */
export const JOBS_PAGE = { default: 50, max: 500 } as const;

const JobsQuery = z.object({
  limit: z.coerce
    .number()
    .int()
    .min(1)
    .max(JOBS_PAGE.max)
    .default(JOBS_PAGE.default),
  before: JobId.optional(),
  status: z.enum(['running', 'completed', 'cancelled']).optional(),
});

export function parseJobsQuery(params: URLSearchParams) {
  const parsed = JobsQuery.safeParse(Object.fromEntries(params));
  if (!parsed.success) {
    throw new AppError(
      ErrorCode.InvalidArgument,
      `bad query for /api/jobs: ${z.prettifyError(parsed.error)}`,
    );
  }
  const { limit, before, status } = parsed.data;
  return { limit, before, state: status };
}
