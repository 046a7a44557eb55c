/**
 * `--retain` in cluster mode: every so often, purge from the shared store the jobs that
 * ended longer ago than the retention (by the database's clock, which stamped their
 * end). Any master may run it; two that pick the same job purge it once (the other
 * finds it gone).
 */
import { AppError, ErrorCode } from '../../../shared/errors.js';
import type { Logger } from '../../log.js';
import { ROUND_JOBS, startPurgeTimer } from '../purger.js';
import type { ClusterStore } from '../store/postgres/cluster-store.js';
import type { ClusterJobs } from './cluster-jobs.js';

/** Starts the timer; returns the function that stops it. */
export function startClusterRetention(parts: {
  store: ClusterStore;
  jobs: ClusterJobs;
  retainMs: number;
  logger: Logger;
}): () => void {
  const { store, jobs, retainMs, logger } = parts;
  return startPurgeTimer(retainMs, logger, async (stopped) => {
    for (const jobId of await store.endedBefore(retainMs, ROUND_JOBS)) {
      if (stopped()) return;
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
  });
}
