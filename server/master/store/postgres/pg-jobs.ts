/**
 * Jobs in the shared store: modules, creation with inputs, append, seal, cancel, purge,
 * and status reads. Creation and append notify `colony_inputs`, cancel notifies
 * `colony_cancel`: one notification per call, delivered at commit.
 */
import type pg from 'pg';
import type { JobOptions } from '../../../../shared/job.js';
import type { JobState } from '../../../../shared/protocol.js';
import type { JobId, JobSpec } from '../../scheduler/types.js';
import type { EncodedValue } from '../store.js';
import type { JobRow, ListJobsQuery } from './cluster-store.js';
import {
  INSERT_CHUNK,
  inTransaction,
  NOW_MS,
  splitValues,
  toNumber,
} from './sql-util.js';
import { retryTransient, transaction, type Statement } from './pg-write.js';

export const CHANNEL_INPUTS = 'colony_inputs';
export const CHANNEL_CANCEL = 'colony_cancel';

/** How long a job's creation may wait on its master between statements. */
const CREATE_IDLE_MS = 60_000;
/** Inserted tasks past which `analyzeAfter` refreshes statistics. */
const ANALYZE_AFTER = 2_000;

export async function putModule(
  pool: pg.Pool,
  hash: string,
  source: string,
): Promise<void> {
  await pool.query(
    'INSERT INTO modules (hash, source) VALUES ($1, $2) ON CONFLICT (hash) DO NOTHING',
    [hash, source],
  );
}

export async function getModule(
  pool: pg.Pool,
  hash: string,
): Promise<string | undefined> {
  const { rows } = await pool.query<{ source: string }>(
    'SELECT source FROM modules WHERE hash = $1',
    [hash],
  );
  return rows[0]?.source;
}

/**
 * The statements inserting tasks first.. of a job, queued, INSERT_CHUNK rows each;
 * `jidSql` is the job's key in SQL, whose one parameter `$1` is `jidValue`.
 */
function taskInserts(
  jidSql: string,
  jidValue: unknown,
  first: number,
  inputs: readonly EncodedValue[],
): Statement[] {
  const statements: Statement[] = [];
  for (let start = 0; start < inputs.length; start += INSERT_CHUNK) {
    const [texts, bytes] = splitValues(
      inputs.slice(start, start + INSERT_CHUNK),
    );
    statements.push({
      text: `INSERT INTO tasks (jid, idx, input_text, input_bytes)
       SELECT ${jidSql}, $2 + o::int - 1, t, b
       FROM unnest($3::text[], $4::bytea[]) WITH ORDINALITY AS u(t, b, o)`,
      values: [jidValue, first + start, texts, bytes],
    });
  }
  return statements;
}

/**
 * Creates the job and its tasks in one transaction of statements built beforehand
 * (pg-write.ts), and tries again if the connection was cut before the commit.
 */
export async function createJob(
  pool: pg.Pool,
  spec: JobSpec,
  inputs: readonly EncodedValue[],
): Promise<void> {
  if (spec.taskCount !== inputs.length) {
    throw new Error(
      `job ${spec.id}: taskCount ${spec.taskCount} but ${inputs.length} inputs`,
    );
  }
  const endsNow = spec.sealed && inputs.length === 0;
  const statements: Statement[] = [
    {
      text: `INSERT INTO jobs (id, name, module_hash, options, priority, created_at,
         task_count, sealed, state, finished_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, CASE WHEN $10 THEN ${NOW_MS} END)`,
      values: [
        spec.id,
        spec.name,
        spec.moduleHash,
        JSON.stringify(spec.options),
        spec.options.priority,
        spec.createdAt,
        inputs.length,
        spec.sealed,
        endsNow ? 'completed' : 'running',
        endsNow,
      ],
    },
    // The job's key by its id: known before the job's insert answers.
    ...taskInserts('(SELECT jid FROM jobs WHERE id = $1)', spec.id, 0, inputs),
  ];
  if (inputs.length > 0) {
    statements.push({
      text: 'SELECT pg_notify($1, $2)',
      values: [CHANNEL_INPUTS, spec.id],
    });
  }
  await retryTransient(
    // A job being created is seen by no other session until it commits, so its locks
    // block nobody: a master stalled (a loaded machine) between these statements must
    // not see its submit fail after the pool's 2 s.
    () =>
      transaction(pool, statements, CREATE_IDLE_MS).then(() => true as const),
    // Job ids are unique without coordination: a job of this id is this one.
    async () =>
      (await pool.query('SELECT 1 FROM jobs WHERE id = $1', [spec.id])).rowCount
        ? true
        : undefined,
  );
  await analyzeAfter(pool, inputs.length);
}

/**
 * Appends inputs under the job row's lock. The inserts are built before the
 * transaction, so nothing is computed while it holds the lock; a cut connection is
 * retried (pg-write.ts).
 */
export async function appendInputs(
  pool: pg.Pool,
  jobId: JobId,
  firstIndex: number,
  inputs: readonly EncodedValue[],
): Promise<void> {
  if (inputs.length === 0) return;
  const statements: Statement[] = [
    {
      text: 'UPDATE jobs SET task_count = task_count + $2 WHERE id = $1',
      values: [jobId, inputs.length],
    },
    ...taskInserts(
      '(SELECT jid FROM jobs WHERE id = $1)',
      jobId,
      firstIndex,
      inputs,
    ),
    { text: 'SELECT pg_notify($1, $2)', values: [CHANNEL_INPUTS, jobId] },
  ];
  const write = () =>
    inTransaction(pool, async (client) => {
      // The job row's lock orders appends: each sees the count the previous one left.
      const { rows } = await client.query<{
        task_count: number;
        sealed: boolean;
        state: JobState;
      }>(
        'SELECT task_count, sealed, state FROM jobs WHERE id = $1 FOR UPDATE',
        [jobId],
      );
      const job = rows[0];
      if (job === undefined) throw new Error(`no job ${jobId}`);
      if (job.sealed) throw new Error(`job ${jobId} is sealed`);
      if (job.state !== 'running') throw new Error(`job ${jobId} has ended`);
      if (job.task_count !== firstIndex) {
        throw new Error(
          `job ${jobId}: inputs must start at ${job.task_count}, not ${firstIndex}`,
        );
      }
      for (const q of statements) await client.query(q.text, q.values);
      return true;
    });
  await retryTransient(write, async () => {
    // Appends of one job come one after another: a count past this append's end
    // says it committed before the connection was cut.
    const { rows } = await pool.query<{ task_count: number }>(
      'SELECT task_count FROM jobs WHERE id = $1',
      [jobId],
    );
    const count = rows[0]?.task_count;
    return count !== undefined && count >= firstIndex + inputs.length
      ? true
      : undefined;
  });
  await analyzeAfter(pool, inputs.length);
}

export async function sealJob(pool: pg.Pool, jobId: JobId): Promise<boolean> {
  return inTransaction(pool, async (client) => {
    const { rows } = await client.query<{ sealed: boolean }>(
      'SELECT sealed FROM jobs WHERE id = $1 FOR UPDATE',
      [jobId],
    );
    if (rows[0] === undefined) throw new Error(`no job ${jobId}`);
    if (rows[0].sealed) return false;
    // Sealing a job whose tasks have all ended completes it: here, under the row lock,
    // or later by the record batch that ends its last task; never both.
    const done = await client.query(
      `UPDATE jobs SET sealed = true,
         finished_at = CASE WHEN done + failed = task_count THEN ${NOW_MS} END,
         state = CASE WHEN done + failed = task_count THEN 'completed' ELSE state END
       WHERE id = $1 AND state = 'running'
       RETURNING state`,
      [jobId],
    );
    return (
      (done.rows[0] as { state: JobState } | undefined)?.state === 'completed'
    );
  });
}

export async function cancelJob(pool: pg.Pool, jobId: JobId): Promise<boolean> {
  return inTransaction(pool, async (client) => {
    const { rowCount } = await client.query(
      `UPDATE jobs SET state = 'cancelled', finished_at = ${NOW_MS}
       WHERE id = $1 AND state = 'running'`,
      [jobId],
    );
    if (rowCount === 0) return false;
    await client.query('SELECT pg_notify($1, $2)', [CHANNEL_CANCEL, jobId]);
    return true;
  });
}

export async function purgeJob(pool: pg.Pool, jobId: JobId): Promise<boolean> {
  return inTransaction(pool, async (client) => {
    const { rows } = await client.query<{ jid: string; module_hash: string }>(
      "DELETE FROM jobs WHERE id = $1 AND state <> 'running' RETURNING jid, module_hash",
      [jobId],
    );
    const row = rows[0];
    if (row === undefined) return false;
    await client.query('DELETE FROM tasks WHERE jid = $1', [row.jid]);
    await client.query('DELETE FROM results WHERE jid = $1', [row.jid]);
    // A submit racing this re-puts the module after creating its job (cluster-jobs.ts).
    await client.query(
      'DELETE FROM modules WHERE hash = $1 AND NOT EXISTS (SELECT 1 FROM jobs WHERE module_hash = $1)',
      [row.module_hash],
    );
    return true;
  });
}

/**
 * Statistics after a bulk insert: without them the planner takes a fresh 100,000-task
 * job for a few rows and scans all of them on every claim and record (measured: 100-200
 * ms a batch of 500, against a few ms). Best effort, outside the writing transaction.
 */
async function analyzeAfter(pool: pg.Pool, inserted: number): Promise<void> {
  if (inserted < ANALYZE_AFTER) return;
  await pool.query('ANALYZE tasks').catch(() => undefined);
}

interface JobDbRow {
  id: JobId;
  name: string;
  module_hash: string;
  options: JobOptions;
  created_at: string;
  task_count: number;
  sealed: boolean;
  state: JobState;
  finished_at: string | null;
  done: number;
  failed: number;
  claimed: string;
}

// `claimed` counts the job's claimed rows through the small partial index; an ended job
// shows none queued or running, whatever claims its masters have not yet given back.
const JOB_COLUMNS = `j.id, j.name, j.module_hash, j.options, j.created_at, j.task_count,
  j.sealed, j.state, j.finished_at, j.done, j.failed,
  CASE WHEN j.state = 'running'
    THEN (SELECT count(*) FROM tasks t WHERE t.jid = j.jid AND t.state = 1) ELSE 0 END
    AS claimed`;

function toJobRow(row: JobDbRow): JobRow {
  const running = Number(row.claimed);
  const ended = row.done + row.failed;
  return {
    spec: {
      id: row.id,
      name: row.name,
      moduleHash: row.module_hash,
      options: row.options,
      taskCount: row.task_count,
      sealed: row.sealed,
      createdAt: Number(row.created_at),
    },
    state: row.state,
    finishedAt: toNumber(row.finished_at),
    counts: {
      total: row.task_count,
      queued: row.state === 'running' ? row.task_count - ended - running : 0,
      running,
      done: row.done,
      failed: row.failed,
    },
  };
}

export async function getJob(
  pool: pg.Pool,
  jobId: JobId,
): Promise<JobRow | undefined> {
  const { rows } = await pool.query<JobDbRow>(
    `SELECT ${JOB_COLUMNS} FROM jobs j WHERE j.id = $1`,
    [jobId],
  );
  return rows[0] === undefined ? undefined : toJobRow(rows[0]);
}

export async function countJobs(
  pool: pg.Pool,
  state: JobState | undefined,
): Promise<number> {
  const { rows } = await pool.query<{ n: string }>(
    'SELECT count(*) AS n FROM jobs WHERE $1::text IS NULL OR state = $1',
    [state ?? null],
  );
  return Number(rows[0]?.n ?? 0);
}

export async function endedBefore(
  pool: pg.Pool,
  ageMs: number,
  limit: number,
): Promise<JobId[]> {
  const { rows } = await pool.query<{ id: JobId }>(
    `SELECT id FROM jobs
     WHERE state <> 'running' AND finished_at <= ${NOW_MS} - $1::bigint
     ORDER BY finished_at LIMIT $2`,
    [ageMs, limit],
  );
  return rows.map((row) => row.id);
}

export async function listJobs(
  pool: pg.Pool,
  query: ListJobsQuery,
): Promise<JobRow[]> {
  const { rows } = await pool.query<JobDbRow>(
    `SELECT ${JOB_COLUMNS} FROM jobs j
     WHERE ($2::text IS NULL OR j.jid < (SELECT jid FROM jobs WHERE id = $2))
       AND ($3::text IS NULL OR j.state = $3)
     ORDER BY j.jid DESC LIMIT $1`,
    [query.limit, query.before ?? null, query.state ?? null],
  );
  return rows.map(toJobRow);
}
