/**
 * The session's {@link Clock} in a browser page. Browsers throttle timers of background
 * tabs to about one per second; the session's "flush results in a moment" timer would
 * then hold results for a second. Delays of a few ms therefore run on a
 * `MessageChannel`, which is not throttled and still lets already-queued outcomes of
 * the Web Workers arrive first.
 */
import type { Clock } from '../../../shared/worker-session.js';

const SOON_MS = 4;

type Handle = { soon: number } | { timer: number };

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
      return { timer: window.setTimeout(fn, ms) };
    },
    clearTimeout(handle) {
      const h = handle as Handle | null;
      if (!h) return;
      if ('soon' in h) pending.delete(h.soon);
      else window.clearTimeout(h.timer);
    },
  };
}
