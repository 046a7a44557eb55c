/**
 * What a worker session is given: the transport to the master, the executor that runs
 * tasks, and the clock. Node and the browser each pass their own (ws or WebSocket,
 * worker threads or Web Workers, real time); tests pass fakes.
 */
import type { Lease, TaskBatch } from '../protocol.js';
import type { Outcomes } from './results-outbox.js';

/** An open connection. */
export interface Transport {
  send(frame: string | Uint8Array): void;
  close(code: number, reason: string): void;
}

export interface TransportHandlers {
  onOpen(): void;
  onMessage(frame: string | Uint8Array): void;
  /**
   * The batches of a `tasks` frame the transport decoded itself (a large frame of
   * records, from its bytes: server/worker/tasks-bytes.ts).
   */
  onTasks?(batches: TaskBatch[]): void;
  onClose(code: number, reason: string): void;
}

/** Opens a connection to the master's `/ws`; reports through the handlers. */
export type Connect = (handlers: TransportHandlers) => Transport;

/**
 * Runs tasks on `slots` threads. Each task's lease appears in exactly one `onDone`
 * call (unless cancelled); a call may report any number of tasks of the batch.
 */
export interface Executor {
  readonly slots: number;
  /** Queues a batch; the executor runs its tasks as slots free up. */
  submit(batch: TaskBatch, onDone: (outcomes: Outcomes) => void): void;
  /** Drops these leases: queued ones are forgotten, running ones stopped. No `onDone` follows. */
  cancel(leases: readonly Lease[]): void;
  /** Cancels everything (the connection is gone: the master re-queued them). */
  cancelAll(): void;
  /** Tasks queued or running. */
  readonly pending: number;
  /**
   * Set by the session to hear `ctx.progress(fraction)` of running tasks. The executor
   * calls it only for leases it holds and that are not cancelled, with a fraction in
   * 0..1; an executor without it never reports progress.
   */
  onProgress?: ProgressListener | null;
  /** Set by the session to hear `ctx.checkpoint(state)`, on the terms of `onProgress`. */
  onCheckpoint?: CheckpointListener | null;
  /** Runs on `threads` threads from now on (`slots` follows). */
  resize?(threads: number): void;
  /** The CPU share of each thread, percent 1..100 (a duty cycle, shared/duty-cycle.ts). */
  setShare?(percent: number): void;
  /** Starts no more tasks: those not started are reported `skipped`; running ones finish. */
  pause?(): void;
  /** Starts tasks again. */
  resume?(): void;
}

/** Progress of a running task: its lease and a fraction, 0..1. */
export type ProgressListener = (lease: Lease, fraction: number) => void;
/** A running task's checkpoint: its lease and its state (JSON or bytes). */
export type CheckpointListener = (lease: Lease, state: unknown) => void;

export interface Clock {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
  random(): number;
}
