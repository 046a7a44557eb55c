/**
 * The watchdog's test: which running tasks outlived their lease. A task's `timeoutMs`
 * counts from when its thread started it (never from when it was queued), plus a slack
 * for outcomes posted but not yet heard.
 */
import { runningTask, type RunningTask, type Thread } from './thread.js';

export interface Overdue {
  thread: Thread;
  running: RunningTask;
  reason: string;
}

/**
 * The overdue task of each busy thread. Lazy, over the live array: the caller may
 * replace a thread (at its index) while it iterates, as it kills each one.
 */
export function* overdueTasks(
  threads: readonly Thread[],
  now: number,
  slackMs: number,
): Generator<Overdue> {
  for (const thread of threads) {
    if (thread.dead || thread.unreported === 0) continue;
    const running = runningTask(thread);
    if (!running) continue;
    const { timeoutMs } = running.slice.batch;
    if (now - running.startedAt > timeoutMs + slackMs)
      yield {
        thread,
        running,
        reason: `the task exceeded its lease of ${timeoutMs} ms and its thread was terminated`,
      };
  }
}
