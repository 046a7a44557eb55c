/**
 * The API under `/api` in cluster mode: the same routes and answers as http/api-routes.ts,
 * served from the shared store so that any master answers for any job.
 */
import { once } from 'node:events';
import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  readBody,
  requireMediaType,
  requireToken,
  sendJson,
} from '../http-util.js';
import type { DashboardFeed } from '../dashboard-feed.js';
import type { Gateway } from '../gateway.js';
import {
  jobIdOf,
  parseJobsQuery,
  volunteersHandler,
} from '../http/api-routes.js';
import { scanNdjsonInputs, scanSubmitBody } from '../input-texts.js';
import { resultLine } from '../http/results-stream.js';
import type { Route, RouteContext } from '../http/router.js';
import type { Runtime } from '../runtime.js';
import type { JobId } from '../scheduler/types.js';
import type { ClusterStore } from '../store/postgres/cluster-store.js';
import type { ClusterJobs } from './cluster-jobs.js';

const NDJSON_TYPES = [
  'application/x-ndjson',
  'application/jsonl',
  'application/json-lines',
];
const RESULTS_PAGE = 2_000;
/** A follower looks at the store this often when nothing local wakes it. */
const FOLLOW_POLL_MS = 500;

export interface ClusterRoutesOptions {
  runtime: Runtime;
  jobs: ClusterJobs;
  store: ClusterStore;
  feed: DashboardFeed;
  gateway: () => Gateway;
  token: string;
  maxBodyBytes: number;
}

export function clusterApiRoutes(options: ClusterRoutesOptions): Route[] {
  const { runtime, jobs, feed, token } = options;

  const jobDetail = async (jobId: JobId) => {
    const view = await jobs.view(jobId);
    const end = view.finishedAt ?? runtime.now();
    return {
      ...feed.jobSummary(view),
      options: view.spec.options,
      elapsedMs: end - view.spec.createdAt,
    };
  };

  const handlers = {
    listJobs: async ({ res, url }: RouteContext) => {
      // Newest first, paged, as a single master lists them (http/api-routes.ts).
      const query = parseJobsQuery(url.searchParams);
      const page = await jobs.page(query);
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
        page.jobs.map((v) => feed.jobSummary(v)),
      );
    },
    submitJob: async ({ req, res }: RouteContext) => {
      requireToken(req, token);
      requireMediaType(req, ['application/json']);
      const text = (await readBody(req, options.maxBodyBytes)).toString('utf8');
      const { body, inputs } = scanSubmitBody(text);
      sendJson(res, 201, await jobs.submit(body, inputs));
    },
    getJob: async ({ res, params }: RouteContext) => {
      sendJson(res, 200, await jobDetail(jobIdOf(params)));
    },
    cancelJob: async ({ req, res, url, params }: RouteContext) => {
      requireToken(req, token);
      const id = jobIdOf(params);
      if (url.searchParams.get('purge') === '1') {
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
      sendJson(res, 200, await jobDetail(id));
    },
    appendInputs: async ({ req, res, params }: RouteContext) => {
      requireToken(req, token);
      requireMediaType(req, NDJSON_TYPES);
      const text = (await readBody(req, options.maxBodyBytes)).toString('utf8');
      sendJson(
        res,
        200,
        await jobs.appendStored(jobIdOf(params), scanNdjsonInputs(text)),
      );
    },
    sealJob: async ({ req, res, params }: RouteContext) => {
      requireToken(req, token);
      sendJson(res, 200, await jobs.seal(jobIdOf(params)));
    },
    results: async ({ req, res, url, params }: RouteContext) => {
      requireToken(req, token);
      const follow = url.searchParams.get('follow') === '1';
      await streamClusterResults(options, req, res, jobIdOf(params), follow);
    },
    listWorkers: ({ res }: RouteContext) => {
      const workers = runtime.scheduler.workerViews().map((view) => ({
        ...feed.workerSummary(view),
        address: options.gateway().addressOf(view.id) ?? '',
      }));
      sendJson(res, 200, workers);
    },
  };

  return [
    // This master's volunteers' totals (each master keeps its own: multi-master.md).
    {
      method: 'GET',
      path: '/api/volunteers',
      handler: volunteersHandler(runtime),
    },
    { method: 'GET', path: '/api/jobs', handler: handlers.listJobs },
    { method: 'POST', path: '/api/jobs', handler: handlers.submitJob },
    { method: 'GET', path: '/api/jobs/:id', handler: handlers.getJob },
    { method: 'DELETE', path: '/api/jobs/:id', handler: handlers.cancelJob },
    {
      method: 'POST',
      path: '/api/jobs/:id/inputs',
      handler: handlers.appendInputs,
    },
    { method: 'POST', path: '/api/jobs/:id/seal', handler: handlers.sealJob },
    {
      method: 'GET',
      path: '/api/jobs/:id/results',
      handler: handlers.results,
    },
    { method: 'GET', path: '/api/workers', handler: handlers.listWorkers },
  ];
}

/**
 * Results by seq from the shared store (seqs are in commit order, so a cursor never
 * skips a late commit). With `follow`, waits for local commits or a short poll, until
 * a page read after seeing the job ended comes back empty.
 */
async function streamClusterResults(
  options: ClusterRoutesOptions,
  req: IncomingMessage,
  res: ServerResponse,
  jobId: JobId,
  follow: boolean,
): Promise<void> {
  const { runtime, store, jobs } = options;
  await jobs.view(jobId); // 404 before the head
  res.writeHead(200, {
    'content-type': 'application/x-ndjson; charset=utf-8',
    'cache-control': 'no-store',
  });
  let closed = false;
  let wake: (() => void) | null = null;
  const onResults = (id: JobId) => {
    if (id === jobId) wake?.();
  };
  runtime.on('results', onResults);
  runtime.on('job-finished', onResults);
  const onClose = () => {
    closed = true;
    wake?.();
  };
  req.on('close', onClose);
  res.on('close', onClose);
  let afterSeq = 0;
  try {
    for (;;) {
      // The state before the page: if it says ended, the page holds the rest.
      const ended = follow
        ? (await store.getJob(jobId))?.state !== 'running'
        : true;
      const page = await store.readResults(jobId, afterSeq, RESULTS_PAGE);
      if (closed) return;
      if (page.length > 0) {
        afterSeq = page[page.length - 1]?.seq ?? afterSeq;
        if (!res.write(page.map(resultLine).join(''))) await once(res, 'drain');
        continue;
      }
      if (ended) break;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, FOLLOW_POLL_MS);
        wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      wake = null;
      if (closed) return;
    }
    res.end();
  } finally {
    runtime.off('results', onResults);
    runtime.off('job-finished', onResults);
  }
}
