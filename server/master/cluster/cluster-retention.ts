/**
 * `--retain` in cluster mode: every so often, purge from the shared store the jobs that
 * ended longer ago than the retention (by the database's clock, which stamped their
 * end). Any master may run it; two that pick the same job purge it once (the other
 * finds it gone).
 */
import { AppError, ErrorCode } from '../../../shared/errors.js';
import type { Logger } from '../../log.js';
import { checkEveryMs } from '../retention.js';
import type { ClusterStore } from '../store/postgres/cluster-store.js';
import type { ClusterJobs } from './cluster-jobs.js';

/** Jobs purged per round at most; the next round takes the rest. */
const ROUND_JOBS = 16;

/** Starts the timer; returns the function that stops it. */
export function startClusterRetention(parts: {
  store: ClusterStore;
  jobs: ClusterJobs;
  retainMs: number;
  logger: Logger;
}): () => void {
  const { store, jobs, retainMs, logger } = parts;
  let busy = false;
  let stopped = false;
  const round = async () => {
    for (const jobId of await store.endedBefore(retainMs, ROUND_JOBS)) {
      if (stopped) return;
      try {
        await jobs.purge(jobId);
        logger.info({ jobId }, 'job purged (retention)');
      } catch (error) {
        // Purged by another master (or by hand) meanwhile: nothing to do.
        if (error instanceof AppError && error.code === ErrorCode.NotFound)
          continue;
        throw error;
      }
    }
  };
  const timer = setInterval(() => {
    if (busy) return;
    busy = true;
    round()
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
