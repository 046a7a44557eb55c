/**
 * The retention timer of `colony master --retain`: every so often it purges, one after
 * another, the jobs that ended longer ago than the retention. Each purge deletes its rows
 * in short steps (store), so dispatch goes on in between.
 */
import type { Logger } from '../log.js';
import type { JobsService } from './jobs-service.js';
import { checkEveryMs, jobsToPurge } from './retention.js';
import type { Runtime } from './runtime.js';

/** Jobs purged per round at most; the next round takes the rest. */
export const ROUND_JOBS = 16;

/** Starts the timer; returns the function that stops it. */
export function startRetention(parts: {
  runtime: Runtime;
  jobs: JobsService;
  retainMs: number;
  logger: Logger;
}): () => void {
  const { runtime, jobs, retainMs, logger } = parts;
  return startPurgeTimer(retainMs, logger, async (stopped) => {
    const due = jobsToPurge(
      runtime.scheduler.jobViews(),
      runtime.now(),
      retainMs,
      ROUND_JOBS,
    );
    for (const jobId of due) {
      if (stopped()) return;
      // Deleted by hand meanwhile: nothing to do.
      if (!runtime.scheduler.jobView(jobId)) continue;
      await jobs.purge(jobId);
      logger.info({ jobId }, 'job purged (retention)');
    }
  });
}

/**
 * Runs `round` every `checkEveryMs(retainMs)`, never two at once (a round of large
 * purges may outlast the interval); `stopped()` lets a round end between purges.
 * Returns the function that stops it. Shared by the embedded and the cluster master.
 */
export function startPurgeTimer(
  retainMs: number,
  logger: Logger,
  round: (stopped: () => boolean) => Promise<void>,
): () => void {
  let busy = false;
  let stopped = false;
  const timer = setInterval(() => {
    if (busy) return;
    busy = true;
    round(() => stopped)
      .catch((error: unknown) =>
        logger.error({ err: error }, 'retention purge failed'),
      )
      .finally(() => {
        busy = false;
      });
  }, checkEveryMs(retainMs));
  timer.unref();
  return () => {
    stopped = true;
    clearInterval(timer);
  };
}
