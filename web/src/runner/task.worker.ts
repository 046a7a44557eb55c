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

const runner = createTaskRunner({
  importModule: (hash) => import(/* @vite-ignore */ `/modules/${hash}.js`),
  post: (message: FromThread) => self.postMessage(message),
  now: () => Date.now(),
});

self.onmessage = (event: MessageEvent<ToThread>) => {
  runner.handle(event.data);
};
