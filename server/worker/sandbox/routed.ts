/** What the sandboxed child's main thread and its task threads share and say. */
import type { ToThread } from '../../../shared/task-runner.js';

/** Main thread -> task thread (batches come over the thread's own pipe). */
export type ToThreadPort =
  | { t: 'module'; hash: string; source: string }
  | { t: 'module-error'; hash: string; message: string }
  /** Cancel every task read and not reported. */
  | { t: 'cancel-all' }
  /** Cancel (task ids), hold, share: for the task runner as they are. */
  | { t: 'control'; message: ToThread };

/** Task thread -> main thread: the thread needs this module's text. */
export interface NeedModule {
  t: 'need';
  hash: string;
}

/** Slots of a thread's shared memory (a Float64Array), written by the thread. */
export const Slot = {
  /** The id of the task running, or -1. */
  running: 0,
  /** When it started (ms since epoch). */
  started: 1,
  /** Its timeout, ms (the watchdog's limit from its start). */
  timeout: 2,
  /** When its lease ends: a task started past it is not blamed for a crash. */
  deadline: 3,
  /** The last id reported (its outcome written to the pipe). */
  reported: 4,
  /** The last id read from the pipe. */
  read: 5,
} as const;
export const SLOT_COUNT = 6;
