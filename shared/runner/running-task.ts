/**
 * The `ctx` a task function receives, which is also the runner's record of the task.
 */
import type { Lease } from '../protocol.js';
import { checkpointState } from './checkpoint.js';
import type { FromThread, TaskContext } from './messages.js';

/** Where a task's progress goes, the clock that throttles it, and its pacing. */
export interface ProgressPort {
  post(message: FromThread): void;
  now(): number;
  /** `ctx.pace()`: the thread's CPU share (see runner/pacer.ts). */
  pace(): Promise<void>;
}

/**
 * The `ctx` of one task, also the runner's record of it: a class, so that a task costs
 * one small object (an object literal with a getter and a closure costs several).
 */
export class RunningTask implements TaskContext {
  aborted = false;
  #controller: AbortController | null = null;
  #progress: ((fraction: number) => void) | null = null;
  #checkpoint: ((state: unknown) => void) | null = null;
  readonly lease: Lease;
  readonly jobId: string;
  readonly taskIndex: number;
  readonly attempt: number;
  readonly resumeFrom: unknown;
  readonly #options: ProgressPort;

  constructor(
    lease: Lease,
    jobId: string,
    taskIndex: number,
    attempt: number,
    options: ProgressPort,
    resumeFrom?: unknown,
  ) {
    this.lease = lease;
    this.jobId = jobId;
    this.taskIndex = taskIndex;
    this.attempt = attempt;
    this.resumeFrom = resumeFrom;
    this.#options = options;
  }

  /**
   * A bound function, like `progress`. Every call goes to the host, which keeps only
   * the latest per task and sends at most one a second (worker-session); nothing is
   * sent once the task was stopped.
   */
  get checkpoint(): (state: unknown) => void {
    if (!this.#checkpoint) {
      this.#checkpoint = (state: unknown) => {
        const value = checkpointState(state);
        if (this.aborted) return;
        this.#options.post({
          type: 'checkpoint',
          lease: this.lease,
          state: value,
        });
      };
    }
    return this.#checkpoint;
  }

  get signal(): AbortSignal {
    // Most tasks never look: an AbortController per task would cost more than they do.
    if (!this.#controller) {
      this.#controller = new AbortController();
      if (this.aborted) this.#controller.abort();
    }
    return this.#controller.signal;
  }

  /** A bound function, so that `const { progress } = ctx` works too. */
  get progress(): (fraction: number) => void {
    if (!this.#progress) {
      let lastProgressAt = 0;
      this.#progress = (fraction: number) => {
        const now = this.#options.now();
        if (now - lastProgressAt < 250 || !(fraction >= 0 && fraction <= 1))
          return;
        lastProgressAt = now;
        this.#options.post({ type: 'progress', lease: this.lease, fraction });
      };
    }
    return this.#progress;
  }

  /** Rests if the CPU share asks for it (a bound function, like `progress`). */
  get pace(): () => Promise<void> {
    return this.#options.pace;
  }

  abort(): void {
    this.aborted = true;
    this.#controller?.abort();
  }
}
