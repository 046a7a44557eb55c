/**
 * The master's HTTP handler: one route table (the API in http/api-routes.ts, pages,
 * modules, /metrics and /healthz in http/site-routes.ts) and a static fallback for the
 * files of the built pages. Every error is `{error: {code, message}}` with a code from
 * shared/errors.ts: 404 for a path no route has, 405 with `Allow` for a method the
 * path does not take.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { AppError, ErrorCode } from '../../shared/errors.js';
import { sendError } from './http-util.js';
import { apiRoutes } from './http/api-routes.js';
import type { HttpOptions } from './http/options.js';
import { Router, pathSegments } from './http/router.js';
import { setBaseHeaders } from './http/security-headers.js';
import { siteRoutes } from './http/site-routes.js';
import { serveStatic } from './http/static-files.js';
import { checkHost } from './origin-check.js';

export type { HttpOptions } from './http/options.js';

export function createHttpHandler(options: HttpOptions) {
  const { logger } = options;
  const router = new Router([
    ...(options.apiRoutes ?? apiRoutes(options)),
    ...siteRoutes(options),
  ]);

  const route = async (
    req: IncomingMessage,
    res: ServerResponse,
  ): Promise<void> => {
    const misdirected = checkHost(req, options.originPolicy);
    if (misdirected) throw misdirected;
    const url = new URL(req.url ?? '/', 'http://localhost');
    const method = req.method ?? 'GET';
    const match = router.match(method, url.pathname);
    if (match.kind === 'found')
      return match.handler({ req, res, url, params: match.params });
    if (match.kind === 'wrong-method') {
      const allow = match.allow.join(', ');
      return sendError(
        res,
        new AppError(
          ErrorCode.MethodNotAllowed,
          `${url.pathname} takes ${allow}, not ${method}`,
        ),
        { allow },
      );
    }
    // Any other file of the built pages; nothing under /api is a file.
    const isApi = pathSegments(url.pathname)[0] === 'api';
    if ((method === 'GET' || method === 'HEAD') && !isApi)
      return serveStatic(
        res,
        options.webRoot,
        url.pathname,
        options.serveSourceMaps,
      );
    throw new AppError(
      ErrorCode.NotFound,
      `no route ${method} ${url.pathname}`,
    );
  };

  return (req: IncomingMessage, res: ServerResponse): void => {
    setBaseHeaders(res);
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
