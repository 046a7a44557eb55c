/**
 * Recording outcomes: one transaction per batch, every entry fenced by its claim's token,
 * job counters and result seqs under the job row's lock, and job completion detected in
 * the same transaction (so exactly one batch ever completes a job).
 *
 * Lock order, to stay clear of deadlocks with other masters: task rows (sorted), then job
 * rows (sorted). Claims, takeovers and releases lock task rows only; seal, cancel and
 * append lock one job row only.
 */
import { ErrorCode } from '../../../../shared/errors.js';
import type pg from 'pg';
import type { JobId } from '../../scheduler/types.js';
import type { StoredResult } from '../store.js';
import type { RecordBatchResult, RecordEntry } from './cluster-store.js';
import {
  inTransaction,
  jobKeys,
  joinValue,
  NOW_MS,
  splitValue,
  toNumber,
} from './sql-util.js';

type Outcome = Extract<RecordEntry, { kind: 'outcome' }>;
type Progress = Extract<RecordEntry, { kind: 'progress' }>;

/**
 * Locks the entries' task rows whose claim still holds; returns their keys `job:idx` and
 * the jobs' keys. Per job, `idx = ANY(..)` is an index scan of the primary key (a join
 * with `unnest` was planned as a scan of the whole table).
 */
async function lockValid(
  client: pg.PoolClient,
  master: string,
  entries: readonly RecordEntry[],
): Promise<{ valid: Set<string>; jids: Map<JobId, number> }> {
  const jids = await jobKeys(
    client,
    entries.map((e) => e.jobId),
  );
  const valid = new Set<string>();
  for (const [jobId, jid] of jids) {
    const mine = entries.filter((e) => e.jobId === jobId);
    // FOR UPDATE re-checks state and owner after waiting on a concurrent writer (a
    // takeover); the token is compared on the row as locked, so a claim taken over
    // meanwhile is left out.
    const { rows } = await client.query<{ idx: number; token: string }>(
      `SELECT idx, token FROM tasks
       WHERE jid = $1 AND idx = ANY($2::int[]) AND state = 1 AND claimed_by = $3
       ORDER BY idx FOR UPDATE`,
      [jid, mine.map((e) => e.index), master],
    );
    const tokens = new Map(rows.map((r) => [r.idx, Number(r.token)]));
    for (const e of mine) {
      if (tokens.get(e.index) === e.token) valid.add(`${jobId}:${e.index}`);
    }
  }
  return { valid, jids };
}

async function saveProgress(
  client: pg.PoolClient,
  jids: Map<JobId, number>,
  entries: readonly Progress[],
): Promise<void> {
  for (const [jobId, jid] of jids) {
    const mine = entries.filter((e) => e.jobId === jobId);
    if (mine.length === 0) continue;
    await client.query(
      `UPDATE tasks t SET attempts = u.attempts, deaths = u.deaths, votes = u.votes
       FROM unnest($2::int[], $3::smallint[], $4::smallint[], $5::jsonb[])
         AS u(idx, attempts, deaths, votes)
       WHERE t.jid = $1 AND t.idx = ANY($2::int[]) AND t.idx = u.idx`,
      [
        jid,
        mine.map((e) => e.index),
        mine.map((e) => e.attempts),
        mine.map((e) => e.deaths),
        mine.map((e) => (e.votes === null ? null : JSON.stringify(e.votes))),
      ],
    );
  }
}

/** Ends the tasks, bumps each job's counters and writes the results, job by job. */
async function saveOutcomes(
  client: pg.PoolClient,
  jids: Map<JobId, number>,
  entries: readonly Outcome[],
): Promise<JobId[]> {
  if (entries.length === 0) return [];
  const byJob = new Map<JobId, Outcome[]>();
  for (const e of entries) {
    const list = byJob.get(e.jobId);
    if (list === undefined) byJob.set(e.jobId, [e]);
    else list.push(e);
  }
  const order = [...byJob.keys()].sort((a, b) => jids.get(a)! - jids.get(b)!);
  const completed: JobId[] = [];
  for (const jobId of order) {
    if (await saveJobOutcomes(client, jids.get(jobId)!, byJob.get(jobId)!)) {
      completed.push(jobId);
    }
  }
  return completed;
}

/** One job's share of a batch: tasks, counters, results; true if it completed the job. */
async function saveJobOutcomes(
  client: pg.PoolClient,
  jid: number,
  entries: readonly Outcome[],
): Promise<boolean> {
  const done = entries.filter((e) => e.outcome.ok).length;
  await client.query(
    `UPDATE tasks SET state = CASE WHEN idx = ANY($3::int[]) THEN 2 ELSE 3 END,
       claimed_by = NULL, claimed_at = NULL
     WHERE jid = $1 AND idx = ANY($2::int[])`,
    [
      jid,
      entries.map((e) => e.index),
      entries.filter((e) => e.outcome.ok).map((e) => e.index),
    ],
  );
  // The row lock taken here is held to commit: seqs of a job are handed out in commit
  // order, and the one batch that ends the last task sees the full count.
  const { rows } = await client.query<{ first: string; complete: boolean }>(
    `UPDATE jobs SET done = done + $2, failed = failed + $3, next_seq = next_seq + $4
     WHERE jid = $1
     RETURNING next_seq - $4 AS first,
       state = 'running' AND sealed AND done + failed = task_count AS complete`,
    [jid, done, entries.length - done, entries.length],
  );
  const first = Number(rows[0]!.first);
  const texts: (string | null)[] = [];
  const bytes: (Buffer | null)[] = [];
  const errors: (string | null)[] = [];
  const codes: (string | null)[] = [];
  for (const e of entries) {
    if (e.outcome.ok) {
      const [text, raw] = splitValue(e.outcome.output);
      texts.push(text);
      bytes.push(raw === null ? null : Buffer.from(raw));
      errors.push(null);
      codes.push(null);
    } else {
      texts.push(null);
      bytes.push(null);
      errors.push(e.outcome.error);
      codes.push(e.outcome.code);
    }
  }
  await client.query(
    `INSERT INTO results (jid, seq, idx, ok, output_text, output_bytes, error, code)
     SELECT $1, $2 + o - 1, idx, ok, t, b, e, c
     FROM unnest($3::int[], $4::bool[], $5::text[], $6::bytea[], $7::text[], $8::text[])
       WITH ORDINALITY AS u(idx, ok, t, b, e, c, o)`,
    [
      jid,
      first,
      entries.map((e) => e.index),
      entries.map((e) => e.outcome.ok),
      texts,
      bytes,
      errors,
      codes,
    ],
  );
  if (!rows[0]!.complete) return false;
  await client.query(
    `UPDATE jobs SET state = 'completed', finished_at = ${NOW_MS} WHERE jid = $1`,
    [jid],
  );
  return true;
}

export async function recordBatch(
  pool: pg.Pool,
  master: string,
  entries: readonly RecordEntry[],
): Promise<RecordBatchResult> {
  if (entries.length === 0) return { accepted: [], completed: [] };
  return inTransaction(pool, async (client) => {
    const { valid, jids } = await lockValid(client, master, entries);
    // A task quoted twice in one batch: its first entry of each kind counts.
    const seen = new Set<string>();
    const accepted = entries.map((e) => {
      const key = `${e.jobId}:${e.index}`;
      const seenKey = `${e.kind}:${key}`;
      if (!valid.has(key) || seen.has(seenKey)) return false;
      seen.add(seenKey);
      return true;
    });
    const outcomes = entries.filter(
      (e, i): e is Outcome => accepted[i]! && e.kind === 'outcome',
    );
    const progress = entries.filter(
      (e, i): e is Progress => accepted[i]! && e.kind === 'progress',
    );
    await saveProgress(client, jids, progress);
    const completed = await saveOutcomes(client, jids, outcomes);
    return { accepted, completed };
  });
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
