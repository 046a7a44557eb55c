/**
 * The `ctx` a task function receives, which is also the runner's record of the task.
 */
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
  readonly lease: number;
  readonly jobId: string;
  readonly taskIndex: number;
  readonly attempt: number;
  readonly #options: ProgressPort;

  constructor(
    lease: number,
    jobId: string,
    taskIndex: number,
    attempt: number,
    options: ProgressPort,
  ) {
    this.lease = lease;
    this.jobId = jobId;
    this.taskIndex = taskIndex;
    this.attempt = attempt;
    this.#options = options;
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
