/**
 * Starts one volunteer thread: a module Web Worker running `runner/task.worker.ts`.
 * Task code only ever runs there, never on the page's thread.
 */
import type {
  SpawnThread,
  ThreadHandle,
} from '../runner/web-worker-executor.js';
import type { FromThread } from '../../../shared/task-runner.js';

let spawned = 0;

export const spawnTaskThread: SpawnThread = (events): ThreadHandle => {
  const worker = new Worker(
    new URL('../runner/task.worker.ts', import.meta.url),
    {
      type: 'module',
      name: `colony-task-${++spawned}`,
    },
  );
  worker.onmessage = (event: MessageEvent<FromThread>) => {
    events.onMessage(event.data);
  };
  worker.onerror = (event: ErrorEvent) => {
    // Handled here: the crash is reported to the master, not to the page's console.
    event.preventDefault();
    events.onError(
      `the task crashed its Web Worker: ${event.message || 'no message'}`,
    );
  };
  worker.onmessageerror = () => {
    events.onError('a message from the Web Worker could not be read');
  };
  return {
    post: (message) => worker.postMessage(message),
    terminate: () => worker.terminate(),
  };
};
