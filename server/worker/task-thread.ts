/**
 * Entry of one worker thread: runs task modules with the shared task runner. Modules
 * arrive as source text from the host (fetched once per hash) and are imported from a
 * data: URL, so the thread needs no network access of its own.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { packTexts } from '../../shared/executor/packed-texts.js';
import { createTaskRunner, type ToThread } from '../../shared/task-runner.js';
import { warmUpThread } from './warm-up-thread.js';

const port = parentPort;
if (!port) throw new Error('task-thread must run in a worker thread');

const sources = new Map<string, string>();
// [lease running now (-1: none), when it started]: read by the host when this thread
// dies or overruns, so the blame falls on the right task without any message.
const running = new Float64Array(
  (workerData as { running: SharedArrayBuffer }).running,
);
const runner = createTaskRunner({
  importModule: (hash) => {
    const source = sources.get(hash);
    if (source === undefined)
      return Promise.reject(new Error(`module ${hash} not loaded`));
    sources.delete(hash); // imported once; the runner caches the module
    return import(
      `data:text/javascript;base64,${Buffer.from(source).toString('base64')}`
    );
  },
  // Output texts leave as one string per message (packed-texts.ts): one copy to clone.
  post: (message) =>
    port.postMessage(
      message.type === 'outcomes' ? packTexts(message) : message,
    ),
  now: () => Date.now(),
  busyNow: () => performance.now(),
  onRunning: (lease, at) => {
    // The runner tells an end (-1) with the task's start time, never 0: the host reads
    // the lease, then the time, and a torn read must not look like a lease overrun.
    running[1] = at;
    running[0] = lease;
  },
});

port.on('message', (message: ToThread) => {
  if (message.type === 'module') sources.set(message.hash, message.source);
  else runner.handle(message);
});

// Before the first real batch arrives: its tasks then run on warm code.
warmUpThread();
