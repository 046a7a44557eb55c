/**
 * The master's HTTP routes (SPEC §6): the API, the pages, task modules, /metrics and
 * /healthz. Every error is `{error: {code, message}}` with a code from shared/errors.ts.
 */
import { createReadStream, existsSync, statSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import path from 'node:path';
import { once } from 'node:events';
import { AppError, ErrorCode } from '../../shared/errors.js';
import type { Logger } from '../log.js';
import type { DashboardFeed } from './dashboard-feed.js';
import type { Gateway } from './gateway.js';
import {
  parseJson,
  readBody,
  requireMediaType,
  requireToken,
  sendError,
  sendJson,
} from './http-util.js';
import type { JobsService } from './jobs-service.js';
import { notFound } from './jobs-service.js';
import { renderMetrics } from './metrics.js';
import type { Runtime } from './runtime.js';
import type { StoredResult } from './store/store.js';
import { decodeStored } from './store/value-codec.js';
import { bytesAsBase64 } from '../base64-json.js';

export interface HttpOptions {
  runtime: Runtime;
  jobs: JobsService;
  feed: DashboardFeed;
  gateway: () => Gateway;
  logger: Logger;
  token: string;
  /** Built pages (dist/web). */
  webRoot: string;
  /** Largest accepted request body. @defaultValue 64 MiB */
  maxBodyBytes: number;
}

const NDJSON_TYPES = [
  'application/x-ndjson',
  'application/jsonl',
  'application/json-lines',
];
const RESULTS_PAGE = 2_000;

const STATIC_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json',
  '.map': 'application/json',
  '.woff2': 'font/woff2',
};

export function createHttpHandler(options: HttpOptions) {
  const { runtime, jobs, feed, logger, token } = options;

  const route = async (
    req: IncomingMessage,
    res: ServerResponse,
  ): Promise<void> => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const parts = url.pathname.split('/').filter(Boolean);
    const method = req.method ?? 'GET';

    if (parts[0] === 'api') {
      if (parts[1] === 'jobs') {
        const jobId = parts[2];
        if (!jobId) {
          if (method === 'GET') return sendJson(res, 200, jobSummaries());
          if (method === 'POST') {
            requireToken(req, token);
            requireMediaType(req, ['application/json']);
            const body = parseJson(
              (await readBody(req, options.maxBodyBytes)).toString('utf8'),
            );
            const created = await jobs.submit(body);
            // The store committed inside submit(): 201 means durable.
            return sendJson(res, 201, created);
          }
          throw methodNotAllowed();
        }
        if (parts.length === 3) {
          if (method === 'GET') return sendJson(res, 200, jobDetail(jobId));
          if (method === 'DELETE') {
            requireToken(req, token);
            await jobs.cancel(jobId);
            return sendJson(res, 200, jobDetail(jobId));
          }
          throw methodNotAllowed();
        }
        if (parts.length === 4 && parts[3] === 'inputs' && method === 'POST') {
          requireToken(req, token);
          requireMediaType(req, NDJSON_TYPES);
          const text = (await readBody(req, options.maxBodyBytes)).toString(
            'utf8',
          );
          return sendJson(
            res,
            200,
            await jobs.append(jobId, parseNdjson(text)),
          );
        }
        if (parts.length === 4 && parts[3] === 'seal' && method === 'POST') {
          requireToken(req, token);
          return sendJson(res, 200, jobs.seal(jobId));
        }
        if (parts.length === 4 && parts[3] === 'results' && method === 'GET') {
          requireToken(req, token);
          return streamResults(
            req,
            res,
            jobId,
            url.searchParams.get('follow') === '1',
          );
        }
      }
      if (parts[1] === 'workers' && parts.length === 2 && method === 'GET') {
        return sendJson(
          res,
          200,
          runtime.scheduler
            .workerViews()
            .map((view) => feed.workerSummary(view)),
        );
      }
      throw new AppError(
        ErrorCode.NotFound,
        `no route ${method} ${url.pathname}`,
      );
    }
    if (url.pathname === '/healthz') {
      return sendJson(res, 200, {
        ok: true,
        workers: options.gateway().workerCount,
      });
    }
    if (url.pathname === '/metrics') {
      const text = renderMetrics(runtime, options.gateway(), feed);
      res.writeHead(200, {
        'content-type': 'text/plain; version=0.0.4; charset=utf-8',
      });
      res.end(text);
      return;
    }
    if (parts[0] === 'modules' && parts.length === 2 && method === 'GET') {
      const match = /^([0-9a-f]{64})\.js$/.exec(parts[1] ?? '');
      const source = match?.[1] ? runtime.store.getModule(match[1]) : undefined;
      if (!source) throw new AppError(ErrorCode.NotFound, 'no such module');
      res.writeHead(200, {
        'content-type': 'text/javascript; charset=utf-8',
        // Named by content hash: never changes, cache forever.
        'cache-control': 'public, max-age=31536000, immutable',
      });
      res.end(source);
      return;
    }
    if (method === 'GET' || method === 'HEAD')
      return serveStatic(res, url.pathname);
    throw methodNotAllowed();
  };

  const jobSummaries = () =>
    runtime.scheduler.jobViews().map((view) => feed.jobSummary(view));

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

  const streamResults = async (
    req: IncomingMessage,
    res: ServerResponse,
    jobId: string,
    follow: boolean,
  ): Promise<void> => {
    if (!runtime.scheduler.jobView(jobId)) throw notFound(jobId);
    res.writeHead(200, {
      'content-type': 'application/x-ndjson; charset=utf-8',
      'cache-control': 'no-store',
    });
    let closed = false;
    req.on('close', () => {
      closed = true;
    });
    let afterSeq = 0;
    let wake: (() => void) | null = null;
    const onResults = (id: string) => {
      if (id === jobId) wake?.();
    };
    runtime.on('results', onResults);
    runtime.on('job-finished', onResults);
    res.on('close', () => {
      closed = true;
      wake?.();
    });
    try {
      for (;;) {
        // Read the state before the page: if it says finished, the page holds the rest.
        const finished = runtime.isFinishedDurably(jobId);
        const page = runtime.store.readResults(jobId, afterSeq, RESULTS_PAGE);
        if (page.length > 0) {
          afterSeq = page[page.length - 1]?.seq ?? afterSeq;
          if (!res.write(page.map(resultLine).join('')))
            await once(res, 'drain');
          if (closed) return;
          continue;
        }
        if (!follow || finished || closed) break;
        await new Promise<void>((resolve) => {
          wake = resolve;
        });
        wake = null;
        if (closed) return;
      }
      res.end();
    } finally {
      runtime.off('results', onResults);
      runtime.off('job-finished', onResults);
    }
  };

  const serveStatic = (res: ServerResponse, pathname: string): void => {
    const file =
      pathname === '/'
        ? 'index.html'
        : pathname === '/volunteer'
          ? 'volunteer.html'
          : pathname;
    const root = path.resolve(options.webRoot);
    // Decode once, resolve, and refuse anything that leaves the web root.
    let decoded: string;
    try {
      decoded = decodeURIComponent(file);
    } catch {
      throw new AppError(ErrorCode.NotFound, 'no such file');
    }
    const target = path.resolve(root, `.${path.sep}${decoded}`);
    if (
      !target.startsWith(root + path.sep) ||
      !existsSync(target) ||
      !statSync(target).isFile()
    ) {
      if (pathname === '/' || pathname === '/volunteer') {
        throw new AppError(
          ErrorCode.NotFound,
          'the web pages are not built: run `npm run build`',
        );
      }
      throw new AppError(ErrorCode.NotFound, 'no such file');
    }
    const type =
      STATIC_TYPES[path.extname(target)] ?? 'application/octet-stream';
    const immutable = target.includes(`${path.sep}assets${path.sep}`);
    const headers: Record<string, string> = {
      'content-type': type,
      'cache-control': immutable
        ? 'public, max-age=31536000, immutable'
        : 'no-cache',
      'x-content-type-options': 'nosniff',
    };
    // Cross-origin isolation lets the volunteer page share memory with its task
    // threads, so a thread that dies is blamed on exactly the task it was running.
    headers['cross-origin-opener-policy'] = 'same-origin';
    headers['cross-origin-embedder-policy'] = 'require-corp';
    // The Web Worker that runs task code may import task modules and nothing else:
    // no fetch, XHR or WebSocket of its own (a worker's CSP comes from its script).
    if (/task\.worker[^/]*\.js$/.test(target)) {
      headers['content-security-policy'] =
        "default-src 'none'; script-src 'self'";
    }
    res.writeHead(200, headers);
    createReadStream(target)
      .on('error', () => res.destroy())
      .pipe(res);
  };

  return (req: IncomingMessage, res: ServerResponse): void => {
    route(req, res).catch((error: unknown) => {
      if (error instanceof AppError) {
        sendError(res, error);
        return;
      }
      logger.error(
        { err: error, url: req.url?.split('?')[0] },
        'request failed',
      );
      sendError(res, new AppError(ErrorCode.Internal, 'internal error'));
    });
  };
}

function methodNotAllowed(): AppError {
  return new AppError(ErrorCode.NotFound, 'no such route for this method');
}

function parseNdjson(text: string): unknown[] {
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

function resultLine(result: StoredResult): string {
  const { outcome } = result;
  if (!outcome.ok) {
    return `${JSON.stringify({ index: result.index, ok: false, error: outcome.error })}\n`;
  }
  if (typeof outcome.output === 'string') {
    return `{"index":${result.index},"ok":true,"output":${outcome.output}}\n`;
  }
  // Binary outputs in NDJSON: bytes as base64 under a `$base64` key.
  return `${JSON.stringify({ index: result.index, ok: true, output: binaryToJson(outcome.output) })}\n`;
}

function binaryToJson(frame: Uint8Array): unknown {
  return JSON.parse(JSON.stringify(decodeStored(frame), bytesAsBase64));
}
