/**
 * Everything outside `/api`: the pages, task modules by content hash, /healthz and
 * /metrics. (Other files of the built pages are served by the static fallback.)
 */
import { AppError, ErrorCode } from '../../../shared/errors.js';
import { sendJson } from '../http-util.js';
import { renderMetrics } from '../metrics.js';
import type { HttpOptions } from './options.js';
import type { Method, Route, RouteContext } from './router.js';
import { TASK_CSP } from './security-headers.js';
import { serveStatic } from './static-files.js';

export function siteRoutes(options: HttpOptions): Route[] {
  const { runtime, feed } = options;

  const page = ({ res, url }: RouteContext) => {
    serveStatic(res, options.webRoot, url.pathname);
  };

  const health = ({ res }: RouteContext) => {
    sendJson(res, 200, { ok: true, workers: options.gateway().workerCount });
  };

  const metrics = ({ res }: RouteContext) => {
    const text = renderMetrics(runtime, options.gateway(), feed);
    res.writeHead(200, {
      'content-type': 'text/plain; version=0.0.4; charset=utf-8',
    });
    res.end(text);
  };

  const taskModule = async ({ res, params }: RouteContext) => {
    const match = /^([0-9a-f]{64})\.js$/.exec(params.file!);
    const hash = match?.[1];
    const source = hash
      ? (runtime.store.getModule(hash) ?? (await options.loadModule?.(hash)))
      : undefined;
    if (!source) throw new AppError(ErrorCode.NotFound, 'no such module');
    res.writeHead(200, {
      'content-type': 'text/javascript; charset=utf-8',
      // Named by content hash: never changes, cache forever.
      'cache-control': 'public, max-age=31536000, immutable',
      // The same policy as the task worker that imports it: no network, no workers.
      'content-security-policy': TASK_CSP,
    });
    res.end(source);
  };

  return [
    ...readable('/', page),
    ...readable('/volunteer', page),
    ...readable('/healthz', health),
    ...readable('/metrics', metrics),
    ...readable('/modules/:file', taskModule),
  ];
}

/** GET and HEAD of one path (node sends no body for HEAD). */
function readable(path: string, handler: Route['handler']): Route[] {
  const methods: Method[] = ['GET', 'HEAD'];
  return methods.map((method) => ({ method, path, handler }));
}
