/**
 * One volunteer thread: a module Web Worker that runs tasks with the shared task
 * runner. Task modules are imported from `/modules/<hash>.js` (once per hash; the hash
 * was validated as 64 hex digits when the frame was decoded). Task code runs here,
 * never on the page's thread: it has no DOM, no page storage, and no token.
 */
import {
  createTaskRunner,
  type FromThread,
  type ToThread,
} from '../../../shared/task-runner.js';

declare const self: DedicatedWorkerGlobalScope;

// [lease running now or -1, its start time], shared with the page when it is
// cross-origin isolated: if this thread dies, the page blames exactly that task.
let running: Float64Array | null = null;

const runner = createTaskRunner({
  importModule: (hash) => import(/* @vite-ignore */ `/modules/${hash}.js`),
  post: (message: FromThread) => self.postMessage(message),
  now: () => Date.now(),
  busyNow: () => performance.now(),
  onRunning: (lease, at) => {
    if (!running) return;
    running[1] = at;
    running[0] = lease;
  },
});

self.onmessage = (event: MessageEvent<ToThread>) => {
  const message = event.data;
  if (message.type === 'slot') running = new Float64Array(message.buffer);
  else runner.handle(message);
};
