/**
 * The response headers that keep the master's pages and scripts to themselves: sent as
 * headers (not `<meta>`), because only a header can forbid framing and a `<meta>` CSP
 * does not reach a Web Worker.
 */
import type { ServerResponse } from 'node:http';

/**
 * On every response (API, pages, assets, modules, errors): no MIME sniffing, no
 * Referer leaving the master, and no other site may embed what it serves.
 */
export const BASE_HEADERS: Readonly<Record<string, string>> = {
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'cross-origin-resource-policy': 'same-origin',
};

/** What both pages share; `worker-src` differs (only the volunteer page starts workers). */
const PAGE_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
];

export const DASHBOARD_CSP = [...PAGE_POLICY, "worker-src 'none'"].join('; ');
export const VOLUNTEER_CSP = [...PAGE_POLICY, "worker-src 'self'"].join('; ');

/**
 * The task Web Worker's policy, which task code runs under (a worker's CSP is the one
 * its script was served with): it may import task modules from this origin and do
 * nothing else: no fetch, XHR, WebSocket or EventSource, no nested or blob workers, no
 * data:/blob: imports. Task modules carry it too.
 */
export const TASK_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "connect-src 'none'",
  "worker-src 'none'",
  "frame-ancestors 'none'",
].join('; ');

/** Sets the headers every response carries (before any route writes its head). */
export function setBaseHeaders(res: ServerResponse): void {
  for (const [name, value] of Object.entries(BASE_HEADERS))
    res.setHeader(name, value);
}

/**
 * Cross-origin isolation lets the volunteer page share memory with its task threads,
 * so a thread that dies is blamed on exactly the task it was running.
 */
export const ISOLATION_HEADERS: Readonly<Record<string, string>> = {
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-embedder-policy': 'require-corp',
};
