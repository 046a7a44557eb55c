/**
 * The built pages and their assets (dist/web), served from one root that no request
 * path may leave.
 */
import { createReadStream, existsSync, statSync } from 'node:fs';
import type { ServerResponse } from 'node:http';
import path from 'node:path';
import { AppError, ErrorCode } from '../../../shared/errors.js';
import {
  DASHBOARD_CSP,
  ISOLATION_HEADERS,
  TASK_CSP,
  VOLUNTEER_CSP,
} from './security-headers.js';

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

/**
 * Serves `pathname` (`/` is index.html, `/volunteer` volunteer.html) from `webRoot`.
 * Source maps (`.map`) are a 404 unless `serveSourceMaps`: they hand out the source.
 */
export function serveStatic(
  res: ServerResponse,
  webRoot: string,
  pathname: string,
  serveSourceMaps = false,
): void {
  if (!serveSourceMaps && pathname.toLowerCase().endsWith('.map'))
    throw new AppError(ErrorCode.NotFound, 'no such file');
  const target = resolveFile(webRoot, pathname);
  const type = STATIC_TYPES[path.extname(target)] ?? 'application/octet-stream';
  const immutable = target.includes(`${path.sep}assets${path.sep}`);
  const headers: Record<string, string> = {
    'content-type': type,
    'cache-control': immutable
      ? 'public, max-age=31536000, immutable'
      : 'no-cache',
    ...ISOLATION_HEADERS,
  };
  const policy = policyFor(path.basename(target));
  if (policy) headers['content-security-policy'] = policy;
  res.writeHead(200, headers);
  createReadStream(target)
    .on('error', () => res.destroy())
    .pipe(res);
}

/** The CSP a file is served with: the pages' own, and the task worker's (no network). */
function policyFor(file: string): string | undefined {
  if (file === 'index.html') return DASHBOARD_CSP;
  if (file === 'volunteer.html') return VOLUNTEER_CSP;
  // A worker's CSP comes from its script's response, never from the page.
  if (/^task\.worker[^/]*\.js$/.test(file)) return TASK_CSP;
  return undefined;
}

/** The file under `webRoot` that `pathname` names; a 404 if none or outside the root. */
function resolveFile(webRoot: string, pathname: string): string {
  const file =
    pathname === '/'
      ? 'index.html'
      : pathname === '/volunteer'
        ? 'volunteer.html'
        : pathname;
  const root = path.resolve(webRoot);
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
  return target;
}
