/**
 * The browser's {@link Executor}: the shared {@link TaskExecutor} on `threads` module
 * Web Workers (started by `spawn`, in the page `spawnTaskThread`). This file only adds
 * the browser's shared slot: when the page is cross-origin isolated, each thread gets
 * a SharedArrayBuffer (by a `slot` message) where it writes the task it runs, so a
 * crash or overrun is blamed on exactly that task.
 */
import type { Clock } from '../../../shared/worker-session.js';
import {
  TaskExecutor,
  type SpawnThread as SharedSpawnThread,
  type ThreadEvents,
} from '../../../shared/executor/index.js';
import type { ToThread } from '../../../shared/task-runner.js';

export type { ThreadEvents };

/** A running Web Worker, as the executor drives it. */
export interface ThreadHandle {
  post(message: ToThread): void;
  terminate(): void;
}

/** Starts one thread; in the page, a module Web Worker running `task.worker.ts`. */
export type SpawnThread = (events: ThreadEvents) => ThreadHandle;

export interface WebWorkerExecutorOptions {
  threads: number;
  spawn: SpawnThread;
  clock: Pick<Clock, 'now' | 'setTimeout' | 'clearTimeout'>;
  /** Most tasks handed to a thread at once. @defaultValue 32 */
  maxBatch?: number;
  /**
   * Give each thread a shared slot where it writes the task it is running. Needs
   * SharedArrayBuffer, i.e. a cross-origin isolated page (the master sends COOP/COEP).
   * @defaultValue auto-detect
   */
  sharedSlots?: boolean;
}

/** Wraps `spawn` to hand each new thread its shared slot, if any. */
function withSlots(
  spawn: SpawnThread,
  sharedSlots: boolean,
): SharedSpawnThread {
  return (events) => {
    const handle = spawn(events);
    let running: Float64Array | null = null;
    if (sharedSlots) {
      const buffer = new SharedArrayBuffer(16);
      running = new Float64Array(buffer);
      running[0] = -1;
      handle.post({ type: 'slot', buffer });
    }
    return {
      post: (message) => handle.post(message),
      terminate: () => handle.terminate(),
      running,
    };
  };
}

export class WebWorkerExecutor extends TaskExecutor {
  constructor(options: WebWorkerExecutorOptions) {
    const sharedSlots =
      options.sharedSlots ??
      (typeof SharedArrayBuffer === 'function' &&
        (globalThis as { crossOriginIsolated?: boolean })
          .crossOriginIsolated === true);
    super({
      threads: options.threads,
      spawn: withSlots(options.spawn, sharedSlots),
      clock: options.clock,
      maxBatch: options.maxBatch ?? 32,
    });
  }

  /** Terminates every thread; the executor is unusable afterwards. */
  dispose(): void {
    void this.close();
  }
}
