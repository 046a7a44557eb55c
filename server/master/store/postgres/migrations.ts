/**
 * Versioned schema of the shared PostgreSQL store. Every master runs `migrate()` on start:
 * one transaction under an advisory lock, so that masters starting together apply each
 * migration once and the others wait, then see it applied. A database of a newer version
 * than this code knows is refused (an older master must not write a newer schema).
 *
 * Migrations are append-only: never edit one that has shipped; add the next.
 */
import type pg from 'pg';

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

// Tasks carry their input inline (input_text or input_bytes, one of them set): a claim
// returns inputs from the rows it updates, with no join. Inputs over ~2 kB are TOASTed,
// so claim and record updates do not copy them.
// tasks.state: 0 queued, 1 claimed, 2 done, 3 failed. A claim is valid while its master's
// presence row is fresh (no per-task expiry to renew); `token` fences its writes.
// No foreign keys on tasks and results: their per-row trigger doubled the cost of
// inserting results; rows are only written with a jid just read from jobs, and a purge
// deletes a job's rows in one transaction.
// masters.lapsed is set, under the row's lock, by the takeover that requeued a silent
// master's claims, so that master's next heartbeat learns it lost them.
// jobs.terminal counts ended tasks under the job row's lock, so that exactly one
// transaction sees the last task end; jobs.next_seq numbers results under the same lock,
// so a job's result seqs are in commit order (a cursor never skips a late commit).
const V1 = `
CREATE TABLE modules (
  hash text PRIMARY KEY,
  source text NOT NULL
);
CREATE TABLE jobs (
  jid bigserial PRIMARY KEY,
  id text NOT NULL UNIQUE,
  name text NOT NULL,
  module_hash text NOT NULL,
  options jsonb NOT NULL,
  priority integer NOT NULL,
  created_at bigint NOT NULL,
  task_count integer NOT NULL,
  sealed boolean NOT NULL,
  state text NOT NULL CHECK (state IN ('running', 'completed', 'cancelled')),
  finished_at bigint,
  done integer NOT NULL DEFAULT 0,
  failed integer NOT NULL DEFAULT 0,
  next_seq bigint NOT NULL DEFAULT 1
);
CREATE INDEX jobs_running ON jobs (priority DESC, jid) WHERE state = 'running';
CREATE TABLE tasks (
  jid bigint NOT NULL,
  idx integer NOT NULL,
  state smallint NOT NULL DEFAULT 0,
  claimed_by text,
  token bigint,
  claimed_at timestamptz,
  attempts smallint NOT NULL DEFAULT 0,
  deaths smallint NOT NULL DEFAULT 0,
  votes jsonb,
  input_text text,
  input_bytes bytea,
  PRIMARY KEY (jid, idx)
);
CREATE INDEX tasks_queued ON tasks (jid, idx) WHERE state = 0;
CREATE INDEX tasks_claimed ON tasks (jid, claimed_by) WHERE state = 1;
CREATE SEQUENCE claim_token;
CREATE TABLE results (
  jid bigint NOT NULL,
  seq bigint NOT NULL,
  idx integer NOT NULL,
  ok boolean NOT NULL,
  output_text text,
  output_bytes bytea,
  error text,
  code text,
  PRIMARY KEY (jid, seq),
  UNIQUE (jid, idx)
);
CREATE TABLE masters (
  id text PRIMARY KEY,
  address text NOT NULL,
  started_at timestamptz NOT NULL DEFAULT clock_timestamp(),
  heartbeat_at timestamptz NOT NULL,
  lapsed boolean NOT NULL DEFAULT false,
  workers jsonb NOT NULL DEFAULT '[]'
);
`;

// The claim's scan of a job's queued tasks must use the partial index: the primary key
// (jid, idx) gives the same order, and right after a job's bulk insert (statistics say
// every task is queued) the planner took it, reading every ended task of the job on
// each claim (claims of a big job cost more and more). An index on `idx + 0` is one only
// this index serves (pg-claims.ts orders by it).
const V2 = `
DROP INDEX tasks_queued;
CREATE INDEX tasks_queued ON tasks (jid, (idx + 0)) WHERE state = 0;
`;

export const MIGRATIONS: readonly Migration[] = [
  { version: 1, name: 'jobs, tasks, results, masters', sql: V1 },
  { version: 2, name: 'claims scan the queued tasks index', sql: V2 },
];

/** Key of the advisory lock that serializes migrations (any fixed 64-bit number). */
const MIGRATION_LOCK = 0x636f6c6f6e79; // "colony"

/** Applies the missing migrations; returns the versions applied by this call. */
export async function migrate(
  pool: pg.Pool,
  migrations: readonly Migration[] = MIGRATIONS,
): Promise<number[]> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    await client.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK]);
    await client.query(`CREATE TABLE IF NOT EXISTS schema_migrations (
      version integer PRIMARY KEY,
      name text NOT NULL,
      applied_at timestamptz NOT NULL DEFAULT clock_timestamp())`);
    const { rows } = await client.query<{ version: number }>(
      'SELECT version FROM schema_migrations ORDER BY version',
    );
    const have = new Set(rows.map((r) => r.version));
    const known = Math.max(0, ...migrations.map((m) => m.version));
    const newest = Math.max(0, ...have);
    if (newest > known) {
      throw new Error(
        `the database schema is version ${newest}, newer than this colony knows (${known}): upgrade this master`,
      );
    }
    const applied: number[] = [];
    for (const m of [...migrations].sort((a, b) => a.version - b.version)) {
      if (have.has(m.version)) continue;
      await client.query(m.sql);
      await client.query(
        'INSERT INTO schema_migrations (version, name) VALUES ($1, $2)',
        [m.version, m.name],
      );
      applied.push(m.version);
    }
    await client.query('COMMIT');
    return applied;
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  } finally {
    client.release();
  }
}
