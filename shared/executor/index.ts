/** The shared task executor and what a host provides to it. */
export { TaskExecutor } from './executor.js';
export type {
  ExecutorClock,
  SpawnThread,
  TaskExecutorOptions,
  ThreadEvents,
  ThreadHandle,
} from './types.js';
