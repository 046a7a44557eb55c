/**
 * Claims: a master takes queued tasks for its workers, gives them back, and takes over
 * the claims of masters that went silent. Row locks with SKIP LOCKED keep concurrent
 * claimers apart without waiting on each other; tokens (one per claim call, from a
 * sequence) fence every later write of the claim.
 */
import type pg from 'pg';
import type { JobId } from '../../scheduler/types.js';
import type { ClaimedTask, ClaimRef, ReplicaVotes } from './cluster-store.js';
import { inTransaction, jobKeys, joinValue } from './sql-util.js';

interface ClaimRow {
  id: JobId;
  idx: number;
  token: string;
  attempts: number;
  deaths: number;
  votes: ReplicaVotes | null;
  input_text: string | null;
  input_bytes: Buffer | null;
}

// The inner SELECT locks up to $3 queued rows of one job in index order, skipping rows
// another claimer holds; rows that turned claimed meanwhile are re-checked on lock and
// dropped (state = 0), so no task is claimed twice. `idx + 0` is the key of the
// partial index of queued tasks (migration 2): only that index serves this order, so
// the scan never reads the job's ended tasks. Only a master with a live presence
// row claims: one taken over must first learn it from its heartbeat. The update finds
// the picked rows by `idx = ANY(ARRAY(..))` on the primary key: joined with the CTE,
// it was planned as a hash join over a scan of the whole table (every job's tasks,
// ended ones too) on each claim.
export const CLAIM_ONE_JOB = `
WITH tok AS (SELECT nextval('claim_token') AS token),
picked AS (
  SELECT t.idx FROM tasks t
  WHERE t.jid = $2 AND t.state = 0
    AND EXISTS (SELECT 1 FROM masters WHERE id = $1 AND NOT lapsed)
  ORDER BY t.idx + 0 LIMIT $3
  FOR UPDATE SKIP LOCKED
)
UPDATE tasks t SET state = 1, claimed_by = $1, token = tok.token,
  claimed_at = clock_timestamp()
FROM tok
WHERE t.jid = $2 AND t.idx = ANY(ARRAY(SELECT idx FROM picked)) AND t.state = 0
RETURNING $4::text AS id, t.idx, t.token, t.attempts, t.deaths, t.votes,
  t.input_text, t.input_bytes`;

/** Most tasks one `claim()` hands out: bounds one answer's size. */
export const MAX_CLAIM = 10_000;

function toClaimed(row: ClaimRow): ClaimedTask {
  return {
    jobId: row.id,
    index: row.idx,
    token: Number(row.token),
    input: joinValue(row.input_text, row.input_bytes),
    attempts: row.attempts,
    deaths: row.deaths,
    votes: row.votes,
  };
}

export async function claim(
  pool: pg.Pool,
  master: string,
  limit: number,
  jobId?: JobId,
): Promise<ClaimedTask[]> {
  if (!Number.isInteger(limit) || limit <= 0) return [];
  limit = Math.min(limit, MAX_CLAIM);
  // Jobs by priority, oldest first; the master's own fair share decides what it asks.
  const { rows: jobs } = await pool.query<{ jid: string; id: string }>({
    name: 'colony-claim-jobs',
    text: `SELECT jid, id FROM jobs WHERE state = 'running' AND ($1::text IS NULL OR id = $1)
     ORDER BY priority DESC, jid`,
    values: [jobId ?? null],
  });
  const claimed: ClaimedTask[] = [];
  for (const job of jobs) {
    const want = limit - claimed.length;
    if (want <= 0) break;
    // Named: parsed once per connection, as the record statement.
    const { rows } = await pool.query<ClaimRow>({
      name: 'colony-claim-one-job',
      text: CLAIM_ONE_JOB,
      values: [master, job.jid, want, job.id],
    });
    rows.sort((a, b) => a.idx - b.idx);
    for (const row of rows) claimed.push(toClaimed(row));
  }
  return claimed;
}

export async function release(
  pool: pg.Pool,
  master: string,
  refs: readonly ClaimRef[],
): Promise<number> {
  if (refs.length === 0) return 0;
  const jids = await jobKeys(
    pool,
    refs.map((r) => r.jobId),
  );
  let released = 0;
  for (const [jobId, jid] of jids) {
    const mine = refs.filter((r) => r.jobId === jobId);
    // Per job, `idx = ANY(..)` scans the primary key; each row must still hold the
    // token quoted for its index.
    const { rowCount } = await pool.query(
      `UPDATE tasks SET state = 0, claimed_by = NULL, token = NULL, claimed_at = NULL
       WHERE jid = $1 AND idx = ANY($2::int[]) AND state = 1 AND claimed_by = $4
         AND token = ($3::bigint[])[array_position($2::int[], idx)]`,
      [jid, mine.map((r) => r.index), mine.map((r) => r.token), master],
    );
    released += rowCount ?? 0;
  }
  return released;
}

export async function releaseAll(
  pool: pg.Pool,
  master: string,
): Promise<number> {
  const { rowCount } = await pool.query(
    `UPDATE tasks SET state = 0, claimed_by = NULL, token = NULL, claimed_at = NULL
     WHERE state = 1 AND claimed_by = $1`,
    [master],
  );
  return rowCount ?? 0;
}

/**
 * Marks masters silent for over `ttlMs` as lapsed (under their rows' locks, so a
 * heartbeat racing with this either comes first and keeps its claims, or comes after and
 * learns it lost them), then requeues every claim not held by a live master.
 */
export async function takeOverExpired(
  pool: pg.Pool,
  ttlMs: number,
): Promise<number> {
  return inTransaction(pool, async (client) => {
    await client.query(
      `UPDATE masters SET lapsed = true
       WHERE NOT lapsed AND heartbeat_at < clock_timestamp() - $1 * interval '1 millisecond'`,
      [ttlMs],
    );
    const { rowCount } = await client.query(
      `UPDATE tasks SET state = 0, claimed_by = NULL, token = NULL, claimed_at = NULL
       WHERE state = 1
         AND claimed_by NOT IN (SELECT id FROM masters WHERE NOT lapsed)`,
    );
    return rowCount ?? 0;
  });
}
