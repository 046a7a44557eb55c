/**
 * What a worker session shows its host and what it is given: its status, its options
 * and the handle `runWorkerSession` (shared/worker-session.ts) returns. Types only, so that the Node worker,
 * the volunteer page and tests can name them without the session's logic.
 */
import type { Standing, WorkerId, WorkerKind } from '../protocol.js';
import type { Prove } from './hello.js';
import type { Clock, Connect, Executor } from './ports.js';

/** `paused`: by {@link WorkerSession.pause}, not connected, until `resume()`. */
export type SessionState =
  'connecting' | 'connected' | 'disconnected' | 'paused' | 'stopped';

export interface SessionStatus {
  state: SessionState;
  workerId: WorkerId | null;
  /** Name of the job of the latest task received. */
  jobName: string | null;
  /** Id of that job (its public description is at `GET /api/jobs/:id`). */
  jobId: string | null;
  /** What this volunteer has given the master, as its last `standing` frame said. */
  standing: Omit<Standing, 'type'> | null;
  /** Results acknowledged by the master (committed). */
  done: number;
  /** Tasks held: queued or running here. */
  inFlight: number;
  /** Why the last connection closed, if it did. */
  lastClose: string | null;
}

export interface WorkerSessionOptions {
  connect: Connect;
  executor: Executor;
  kind: WorkerKind;
  /** The volunteer's proof for a challenge: `proveHello` with its keys and the host it dials. */
  prove: Prove;
  name?: string;
  clock: Clock;
  /** Called on every change of status. */
  onStatus?: (status: SessionStatus) => void;
  /** Called on error frames and odd events, for logs. */
  onLog?: (level: 'info' | 'warn', message: string) => void;
  /**
   * Work to hold per slot, in milliseconds of measured task time: the prefetch window
   * grows for tiny tasks (many ride in a frame) and stays at ~2 per slot for slow ones.
   * @defaultValue 100
   */
  targetQueueMs?: number;
  /** Cap on the prefetch window. @defaultValue 4 096 */
  maxWindow?: number;
  /** A fixed prefetch window (e.g. 1 for one task at a time); disables adaptation. */
  fixedWindow?: number;
  /** Reconnect backoff bounds. @defaultValue 250 and 10 000 */
  minBackoffMs?: number;
  maxBackoffMs?: number;
}

export interface WorkerSession {
  readonly status: SessionStatus;
  /** Closes the connection for good (code 1000) and stops reconnecting. */
  stop(): void;
  /**
   * Takes no more tasks and starts none of those held: the running ones finish and
   * their results are sent, then the connection closes (1000 "paused"), which makes the
   * master re-queue the tasks held but not started. Nothing finished is given back.
   */
  pause(): void;
  /** Connects again after {@link WorkerSession.pause} (at once if it is still closing). */
  resume(): void;
  /** Grows or shrinks the thread pool, and the prefetch window with it. */
  setThreads(threads: number): void;
  /** The CPU share of each thread, percent 1..100. */
  setShare(percent: number): void;
}
