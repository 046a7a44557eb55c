/**
 * `?masters=URL1,URL2` on the volunteer page: the masters a tab may use, in the order
 * it tries them (several masters on one database). Without it, the master that served
 * the page. Task modules still come from the page's own master (any master serves any).
 */
import type { Connect } from '../../../shared/worker-session.js';
import { masterSocketUrl } from '../controllers/master-connection.js';
import { browserConnect } from '../runner/browser-transport.js';

/** Most masters taken from the parameter (a URL is bounded by the browser anyway). */
const MAX_MASTERS = 32;

/** The `ws(s)://host/ws` URLs to try; bad entries are skipped. */
export function volunteerSocketUrls(location: Location): string[] {
  const param = new URLSearchParams(location.search).get('masters');
  const urls: string[] = [];
  for (const entry of (param ?? '').split(',').slice(0, MAX_MASTERS)) {
    try {
      const url = new URL(entry.trim());
      if (url.protocol !== 'http:' && url.protocol !== 'https:') continue;
      const scheme = url.protocol === 'https:' ? 'wss' : 'ws';
      urls.push(`${scheme}://${url.host}/ws`);
    } catch {
      // not a URL: skipped
    }
  }
  return urls.length > 0 ? urls : [masterSocketUrl(location)];
}

/**
 * Connects to one master of the list per attempt, starting anywhere (so tabs spread)
 * and moving to the next after each loss; the session's backoff spaces the attempts.
 * `host()` is the host of the master dialled last: the signed hello names it.
 */
export function rotatingConnect(urls: readonly string[]): {
  connect: Connect;
  host: () => string;
} {
  let current = Math.floor(Math.random() * urls.length);
  let attempts = 0;
  return {
    connect: (handlers) => {
      if (attempts++ > 0) current = (current + 1) % urls.length;
      return browserConnect(urls[current] as string)(handlers);
    },
    host: () => new URL(urls[current] as string).host,
  };
}
