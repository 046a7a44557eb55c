/**
 * Recording outcomes: each job's share of a batch is one statement (one round trip, and
 * atomic without a transaction around it): the fenced update of its task rows, the job's
 * counters and result seqs under the job row's lock, the results, and the job's
 * completion when this share ended its last task (so exactly one statement ever
 * completes a job). The job row is locked only for the statement's last steps and its
 * commit, with no round trip to the master in between: masters recording into one job
 * at once wait on each other for that long only.
 *
 * Fencing is the update's own condition: `UPDATE` re-checks state, owner and token on
 * the row as locked (after waiting on a concurrent writer, a takeover), so a claim
 * taken over meanwhile changes nothing. Lock order, to stay clear of deadlocks with
 * other masters: a job's task rows, then its job row. Claims, takeovers and releases
 * lock task rows only; seal, cancel and append lock one job row only.
 */
import { ErrorCode } from '../../../../shared/errors.js';
import type pg from 'pg';
import type { JobId } from '../../scheduler/types.js';
import type { StoredResult } from '../store.js';
import type { RecordBatchResult, RecordEntry } from './cluster-store.js';
import { joinValue, NOW_MS, splitValue, toNumber } from './sql-util.js';

type Outcome = Extract<RecordEntry, { kind: 'outcome' }>;
type Progress = Extract<RecordEntry, { kind: 'progress' }>;

/** One job's share of a batch, with each entry's position in the batch. */
interface JobShare {
  outcomes: { at: number; entry: Outcome }[];
  progress: { at: number; entry: Progress }[];
}

// `t.jid = (SELECT ..)` is a constant for the planner (an init plan): per job,
// `idx = ANY(..)` is an index scan of the primary key (a join with `unnest` alone was
// planned as a scan of the whole table).
const SAVE_PROGRESS = `
UPDATE tasks t SET attempts = u.attempts, deaths = u.deaths, votes = u.votes
FROM unnest($2::int[], $3::bigint[], $4::smallint[], $5::smallint[], $6::jsonb[])
  AS u(idx, token, attempts, deaths, votes)
WHERE t.jid = (SELECT jid FROM jobs WHERE id = $1) AND t.idx = ANY($2::int[])
  AND t.idx = u.idx AND t.state = 1 AND t.claimed_by = $7 AND t.token = u.token
RETURNING t.idx`;

// The job row's lock, taken by `bumped`, is held to commit: a job's seqs are handed
// out in commit order (a reader's cursor never skips a result that commits late), and
// the one statement that ends the last task of a sealed job sees the full count.
const ENDED =
  "jobs.state = 'running' AND jobs.sealed AND jobs.done + jobs.failed + c.d + c.f = jobs.task_count";
const SAVE_OUTCOMES = `
WITH ended AS (
  UPDATE tasks t SET state = CASE WHEN u.ok THEN 2 ELSE 3 END,
    claimed_by = NULL, claimed_at = NULL
  FROM unnest($2::int[], $3::bigint[], $4::bool[], $5::text[], $6::bytea[], $7::text[],
      $8::text[]) WITH ORDINALITY AS u(idx, token, ok, t, b, e, c, o)
  WHERE t.jid = (SELECT jid FROM jobs WHERE id = $1) AND t.idx = ANY($2::int[])
    AND t.idx = u.idx AND t.state = 1 AND t.claimed_by = $9 AND t.token = u.token
  RETURNING t.jid, t.idx, u.ok, u.t, u.b, u.e, u.c, u.o
), c AS (
  SELECT count(*) FILTER (WHERE ok) AS d, count(*) FILTER (WHERE NOT ok) AS f FROM ended
), bumped AS (
  UPDATE jobs SET done = jobs.done + c.d, failed = jobs.failed + c.f,
    next_seq = jobs.next_seq + c.d + c.f,
    state = CASE WHEN ${ENDED} THEN 'completed' ELSE jobs.state END,
    finished_at = CASE WHEN ${ENDED} THEN ${NOW_MS} ELSE jobs.finished_at END
  FROM c
  WHERE jobs.jid = (SELECT jid FROM jobs WHERE id = $1) AND c.d + c.f > 0
  RETURNING jobs.next_seq - c.d - c.f AS first,
    jobs.state = 'completed' AND jobs.done + jobs.failed - c.d - c.f < jobs.task_count
      AS complete
), saved AS (
  INSERT INTO results (jid, seq, idx, ok, output_text, output_bytes, error, code)
  SELECT e.jid, b.first + row_number() OVER (ORDER BY e.o) - 1, e.idx, e.ok, e.t, e.b,
    e.e, e.c
  FROM ended e, bumped b
)
SELECT coalesce((SELECT array_agg(idx) FROM ended), '{}') AS accepted,
  coalesce((SELECT complete FROM bumped), false) AS complete`;

/** Per job, the entries that count: a task quoted twice, its first entry of each kind. */
function shares(entries: readonly RecordEntry[]): Map<JobId, JobShare> {
  const byJob = new Map<JobId, JobShare>();
  const seen = new Set<string>();
  entries.forEach((entry, at) => {
    const key = `${entry.kind}:${entry.jobId}:${entry.index}`;
    if (seen.has(key)) return;
    seen.add(key);
    let share = byJob.get(entry.jobId);
    if (share === undefined) {
      share = { outcomes: [], progress: [] };
      byJob.set(entry.jobId, share);
    }
    if (entry.kind === 'outcome') share.outcomes.push({ at, entry });
    else share.progress.push({ at, entry });
  });
  return byJob;
}

async function saveProgress(
  pool: pg.Pool,
  master: string,
  jobId: JobId,
  list: JobShare['progress'],
): Promise<Set<number>> {
  const { rows } = await pool.query<{ idx: number }>(SAVE_PROGRESS, [
    jobId,
    list.map(({ entry }) => entry.index),
    list.map(({ entry }) => entry.token),
    list.map(({ entry }) => entry.attempts),
    list.map(({ entry }) => entry.deaths),
    list.map(({ entry }) =>
      entry.votes === null ? null : JSON.stringify(entry.votes),
    ),
    master,
  ]);
  return new Set(rows.map((r) => r.idx));
}

async function saveOutcomes(
  pool: pg.Pool,
  master: string,
  jobId: JobId,
  list: JobShare['outcomes'],
): Promise<{ accepted: Set<number>; complete: boolean }> {
  const texts: (string | null)[] = [];
  const bytes: (Buffer | null)[] = [];
  const errors: (string | null)[] = [];
  const codes: (string | null)[] = [];
  for (const { entry } of list) {
    if (entry.outcome.ok) {
      const [text, raw] = splitValue(entry.outcome.output);
      texts.push(text);
      bytes.push(raw === null ? null : Buffer.from(raw));
      errors.push(null);
      codes.push(null);
    } else {
      texts.push(null);
      bytes.push(null);
      errors.push(entry.outcome.error);
      codes.push(entry.outcome.code);
    }
  }
  // Named: each connection parses it once (and plans it once its generic plan is
  // chosen), not on every batch.
  const { rows } = await pool.query<{ accepted: number[]; complete: boolean }>({
    name: 'colony-save-outcomes',
    text: SAVE_OUTCOMES,
    values: [
      jobId,
      list.map(({ entry }) => entry.index),
      list.map(({ entry }) => entry.token),
      list.map(({ entry }) => entry.outcome.ok),
      texts,
      bytes,
      errors,
      codes,
      master,
    ],
  });
  const row = rows[0]!;
  return { accepted: new Set(row.accepted), complete: row.complete };
}

/** One job's share: progress first, then outcomes, each one atomic statement. */
async function saveShare(
  pool: pg.Pool,
  master: string,
  jobId: JobId,
  share: JobShare,
  accepted: boolean[],
): Promise<boolean> {
  if (share.progress.length > 0) {
    const ok = await saveProgress(pool, master, jobId, share.progress);
    for (const { at, entry } of share.progress)
      accepted[at] = ok.has(entry.index);
  }
  if (share.outcomes.length === 0) return false;
  const saved = await saveOutcomes(pool, master, jobId, share.outcomes);
  for (const { at, entry } of share.outcomes)
    accepted[at] = saved.accepted.has(entry.index);
  return saved.complete;
}

/**
 * Each entry is fenced on its own, so jobs' shares need not commit together: they run
 * side by side on the pool's connections, each job's share atomic by itself.
 */
export async function recordBatch(
  pool: pg.Pool,
  master: string,
  entries: readonly RecordEntry[],
): Promise<RecordBatchResult> {
  const accepted = entries.map(() => false);
  const byJob = shares(entries);
  const completed: JobId[] = [];
  await Promise.all(
    [...byJob].map(async ([jobId, share]) => {
      if (await saveShare(pool, master, jobId, share, accepted))
        completed.push(jobId);
    }),
  );
  return { accepted, completed };
}

export async function readResults(
  pool: pg.Pool,
  jobId: JobId,
  afterSeq: number,
  limit: number,
): Promise<StoredResult[]> {
  if (limit <= 0) return [];
  const { rows } = await pool.query<{
    seq: string;
    idx: number;
    ok: boolean;
    output_text: string | null;
    output_bytes: Buffer | null;
    error: string | null;
    code: string | null;
  }>(
    `SELECT r.seq, r.idx, r.ok, r.output_text, r.output_bytes, r.error, r.code
     FROM results r JOIN jobs j ON j.jid = r.jid
     WHERE j.id = $1 AND r.seq > $2 ORDER BY r.seq LIMIT $3`,
    [jobId, afterSeq, limit],
  );
  return rows.map((row) => ({
    seq: toNumber(row.seq)!,
    index: row.idx,
    outcome: row.ok
      ? { ok: true, output: joinValue(row.output_text, row.output_bytes) }
      : {
          ok: false,
          error: row.error ?? '',
          code: (row.code ?? ErrorCode.TaskFailed) as ErrorCode,
        },
  }));
}
