/**
 * The session's {@link Clock} in a browser page. Browsers throttle the timers of a
 * hidden page: to about one wake-up a second, and after five minutes hidden (Chromium's
 * intensive throttling) to one a minute, which would hold results, the watchdog and
 * reconnects that long. So delays of a few ms run on a `MessageChannel` (not throttled,
 * and already-queued outcomes of the Web Workers still arrive first), and longer ones
 * on a small dedicated worker's timers (`timer.worker.ts`), which are not throttled
 * either; the page's own `setTimeout` only if that worker cannot start.
 */
import type { Clock } from '../../../shared/worker-session.js';

const SOON_MS = 4;

type Handle = { soon: number } | { timer: number } | { page: number };

/** The page's one timer worker (null: it could not start; page timers then). */
let timerWorker: Worker | null | undefined;
const fired = new Map<number, () => void>();
let nextTimer = 0;

function timers(): Worker | null {
  if (timerWorker !== undefined) return timerWorker;
  try {
    const worker = new Worker(new URL('./timer.worker.ts', import.meta.url), {
      type: 'module',
      name: 'colony-timers',
    });
    worker.onmessage = (event: MessageEvent<number>) => {
      const fn = fired.get(event.data);
      fired.delete(event.data);
      fn?.();
    };
    worker.onerror = (event) => {
      event.preventDefault();
      // Timers it held would never fire: run them late rather than never.
      timerWorker = null;
      for (const [id, fn] of fired) {
        fired.delete(id);
        window.setTimeout(fn, 0);
      }
    };
    timerWorker = worker;
  } catch {
    timerWorker = null;
  }
  return timerWorker;
}

export function browserClock(): Clock {
  const channel = new MessageChannel();
  const pending = new Map<number, () => void>();
  let next = 0;
  channel.port1.onmessage = (event: MessageEvent<number>) => {
    const fn = pending.get(event.data);
    if (!fn) return;
    pending.delete(event.data);
    fn();
  };
  return {
    now: () => Date.now(),
    random: () => Math.random(),
    setTimeout(fn, ms): Handle {
      if (ms <= SOON_MS) {
        const id = ++next;
        pending.set(id, fn);
        channel.port2.postMessage(id);
        return { soon: id };
      }
      const worker = timers();
      if (!worker) return { page: window.setTimeout(fn, ms) };
      const id = ++nextTimer;
      fired.set(id, fn);
      worker.postMessage({ set: id, ms });
      return { timer: id };
    },
    clearTimeout(handle) {
      const h = handle as Handle | null;
      if (!h) return;
      if ('soon' in h) pending.delete(h.soon);
      else if ('page' in h) window.clearTimeout(h.page);
      else if (fired.delete(h.timer))
        timerWorker?.postMessage({ clear: h.timer });
    },
  };
}
