/**
 * What a task thread and its host say to each other (the same for Node worker threads
 * and browser Web Workers), and what a task module's function receives.
 */
import type { Lease } from '../protocol.js';

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
  /**
   * Saves the task's state (a JSON value, or bytes: a Uint8Array or ArrayBuffer) with
   * the master; if this attempt is lost (its worker dies, its lease expires), the next
   * attempt gets the latest one saved as `resumeFrom`. Only the latest state counts: the
   * worker sends at most one a second per task. Throws if `state` is not JSON or bytes,
   * or is larger than {@link MAX_CHECKPOINT_BYTES}.
   */
  checkpoint(state: unknown): void;
  /** The state the task's last attempt saved with `checkpoint`; undefined on a fresh start. */
  resumeFrom: unknown;
}

export type TaskFunction = (input: unknown, ctx: TaskContext) => unknown;

/**
 * Tasks of one job as the host hands them to the thread, column by column (a structured
 * clone of one object per task costs more than a trivial task itself).
 */
export interface ThreadBatch {
  job: string;
  module: string;
  leases: Lease[];
  indexes: number[];
  attempts: number[];
  inputs: unknown[];
  /**
   * The inputs as one JSON array text (then `inputs` is empty): records cross to the
   * thread as one string, which clones for the cost of a copy, and are parsed here.
   */
  inputsJson?: string | undefined;
  /** Wall-clock deadline (ms since epoch) of the leases; a task past it is skipped. */
  deadline: number;
  /** Checkpoints to resume from, by task (undefined: start afresh); absent when none. */
  resumes?: unknown[];
}

/** How a task ended in the thread, in `ThreadOutcomes.status`. */
export const Status = {
  /** `values[i]` is the output. */
  ok: 0,
  /** `values[i]` is the error message. */
  error: 1,
  /** Not run: its lease was over or it was cancelled before it started. */
  skipped: 2,
  /** `values[i]` is the output as JSON text (an object or array, written here). */
  json: 3,
} as const;
export type Status = (typeof Status)[keyof typeof Status];

/** Outcomes of the next tasks of the thread, in the order it was given them. */
export interface ThreadOutcomes {
  type: 'outcomes';
  leases: Lease[];
  status: Status[];
  values: unknown[];
  /**
   * Busy milliseconds of each task (the thread's time in the task function, awaits
   * included); absent from a thread that does not measure.
   */
  busy?: number[];
  /**
   * The JSON texts of the `json` outcomes joined in order, when the thread packs them
   * (one string to clone instead of one per output): each such `values[i]` is then
   * its text's length (see shared/executor/packed-texts.ts).
   */
  texts?: string;
}

/** Host -> thread messages. */
export type ToThread =
  | ({ type: 'run' } & ThreadBatch)
  | { type: 'cancel'; leases: Lease[] }
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
  | ThreadOutcomes
  | { type: 'progress'; lease: Lease; fraction: number }
  | { type: 'checkpoint'; lease: Lease; state: unknown };
