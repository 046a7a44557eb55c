/**
 * Timers for the page's worker session, kept off the page's thread: Chromium throttles
 * the timers of a hidden page (to one wake-up a second, and after five minutes hidden
 * to one a minute), not those of a dedicated worker. The page posts `{ set, ms }` or
 * `{ clear }`; this posts back the id of each timer that fires.
 */
declare const self: DedicatedWorkerGlobalScope;
export {}; // a module: its `self` is its own

const timers = new Map<number, ReturnType<typeof setTimeout>>();

self.onmessage = (
  event: MessageEvent<{ set?: number; ms?: number; clear?: number }>,
) => {
  const { set, ms, clear } = event.data;
  if (clear !== undefined) {
    clearTimeout(timers.get(clear));
    timers.delete(clear);
  } else if (set !== undefined) {
    timers.set(
      set,
      setTimeout(() => {
        timers.delete(set);
        self.postMessage(set);
      }, ms),
    );
  }
};
