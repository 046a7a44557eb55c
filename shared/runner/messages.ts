/**
 * What a task thread and its host say to each other (the same for Node worker threads
 * and browser Web Workers), and what a task module's function receives.
 */

/** What the task module's default export receives as its second argument. */
export interface TaskContext {
  /** Aborted when the task is cancelled (job cancelled, done elsewhere, lease lost). */
  signal: AbortSignal;
  /** Optional progress report, 0..1. */
  progress(fraction: number): void;
  /**
   * Keeps the volunteer's CPU share inside a long task: resolves at once, or after the
   * rest the share asks for (e.g. as long again as the task ran since its last rest at
   * 50%). Await it every few ms to tens of ms of work; tasks that never call it rest
   * only between tasks.
   */
  pace(): Promise<void>;
  jobId: string;
  taskIndex: number;
  attempt: number;
}

export type TaskFunction = (input: unknown, ctx: TaskContext) => unknown;

/**
 * Tasks of one job as the host hands them to the thread, column by column (a structured
 * clone of one object per task costs more than a trivial task itself).
 */
export interface ThreadBatch {
  job: string;
  module: string;
  leases: number[];
  indexes: number[];
  attempts: number[];
  inputs: unknown[];
  /** Wall-clock deadline (ms since epoch) of the leases; a task past it is skipped. */
  deadline: number;
}

/** How a task ended in the thread, in `ThreadOutcomes.status`. */
export const Status = {
  /** `values[i]` is the output. */
  ok: 0,
  /** `values[i]` is the error message. */
  error: 1,
  /** Not run: its lease was over or it was cancelled before it started. */
  skipped: 2,
} as const;
export type Status = (typeof Status)[keyof typeof Status];

/** Outcomes of the next tasks of the thread, in the order it was given them. */
export interface ThreadOutcomes {
  type: 'outcomes';
  leases: number[];
  status: Status[];
  values: unknown[];
}

/** Host -> thread messages. */
export type ToThread =
  | ({ type: 'run' } & ThreadBatch)
  | { type: 'cancel'; leases: number[] }
  | { type: 'module'; hash: string; source: string }
  /** Shared memory where the thread writes [lease running now or -1, its start time]. */
  | { type: 'slot'; buffer: SharedArrayBuffer }
  /** The CPU share of the thread, percent 1..100 (see shared/duty-cycle.ts). */
  | { type: 'share'; percent: number }
  /**
   * `on`: start no more tasks; those queued are answered `skipped` at once (the running
   * one finishes). `off`: run what comes again.
   */
  | { type: 'hold'; on: boolean };

/** Thread -> host messages. */
export type FromThread =
  ThreadOutcomes | { type: 'progress'; lease: number; fraction: number };
