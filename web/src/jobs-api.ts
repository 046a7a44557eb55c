/**
 * Paging through older jobs for the dashboard's "show older": `GET /api/jobs` needs no
 * token. What comes back is validated like every frame from the master.
 */
import * as z from 'zod';
import { JobSummary } from '../../shared/protocol.js';

const JobPage = z.array(JobSummary).max(500);

export interface OlderJobs {
  jobs: JobSummary[];
  /** The master has jobs older than these (its answer carried a next link). */
  more: boolean;
}

/** The `limit` jobs submitted before `before`, newest first; null if the call failed. */
export async function fetchOlderJobs(
  before: string | undefined,
  limit = 50,
): Promise<OlderJobs | null> {
  const params = new URLSearchParams({ limit: String(limit) });
  if (before !== undefined) params.set('before', before);
  try {
    const response = await fetch(`/api/jobs?${params.toString()}`, {
      cache: 'no-store',
      credentials: 'omit',
    });
    if (!response.ok) return null;
    const parsed = JobPage.safeParse(await response.json());
    if (!parsed.success) return null;
    const more = /rel="next"/.test(response.headers.get('link') ?? '');
    return { jobs: parsed.data, more };
  } catch {
    return null;
  }
}
