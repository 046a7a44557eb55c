/** Messages on the pipe between the worker (parent) and its sandboxed child. */
import type {
  Lease,
  TaskBatch,
  TaskFailure,
} from '../../../shared/protocol.js';

/** Parent -> child. */
export type ToChild =
  /**
   * A batch whose tasks the child knows by ids `first`, `first + 1`, ... instead of
   * their leases (held.ts); the child reports, cancels and blames by those ids.
   */
  | { t: 'submit'; batch: TaskBatch; first: number }
  /** Task ids to stop, sent to the task thread `thread`. */
  | { t: 'cancel'; leases: number[]; thread?: number }
  | { t: 'cancel-all' }
  /** The CPU share of each thread, percent 1..100. */
  | { t: 'share'; percent: number }
  /** Start no more tasks (those not started come back skipped), or start again. */
  | { t: 'pause' }
  | { t: 'resume' }
  /** The text of a module the child asked for, already checked against its hash. */
  | { t: 'module'; hash: string; source: string }
  | { t: 'module-error'; hash: string; message: string };

/** Child -> parent (untrusted: checked field by field by the parent); leases are task ids. */
export type FromChild =
  | {
      t: 'done';
      /** Task ids (a column of doubles from the merger, done-merge.ts). */
      leases: Lease[] | Float64Array;
      outputs: unknown[] | Float64Array;
      /** Which of `outputs` are JSON texts (strings to splice, checked by the parent). */
      texts?: number[] | undefined;
      failures: TaskFailure[];
      /** Leases over before their task started: no result, the slot is free again. */
      skipped: Lease[] | undefined;
      /** Busy milliseconds of each success, when measured. */
      busyMs: number[] | Float64Array | undefined;
    }
  | { t: 'progress'; lease: Lease; fraction: number }
  | { t: 'checkpoint'; lease: Lease; state: unknown }
  /** The child's thread pool needs this module's text. */
  | { t: 'need'; hash: string }
  | { t: 'log'; message: string }
  /**
   * Task thread `thread` died: it had reported the ids it read up to `reported` and
   * read them up to `read` (ids after that wait in its pipe for the thread that
   * replaces it); `culprit` is the id it was running, to blame (-1: none).
   */
  | {
      t: 'died';
      thread: number;
      culprit: number;
      reported: number;
      read: number;
      reason: string;
    };

/** The fd (in the child) of the duplex pipe to the parent: control messages. */
export const PIPE_FD = 3;

/**
 * The fd (in the child) of task thread `k`'s own pipe: batches in, outcomes out, read
 * and written by the thread itself (the child's main thread does no work per batch).
 */
export const threadFd = (k: number): number => PIPE_FD + 1 + k;

/** Options the parent passes to the child on its command line (no secrets). */
export interface ChildOptions {
  threads: number;
  threadMemoryMb?: number;
}
