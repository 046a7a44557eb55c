// The shared PostgreSQL store against a real PostgreSQL: migrations, jobs, claims,
// fencing, takeover, progress and presence (concurrency: postgres-concurrency.test.ts).
import type pg from 'pg';
import { describe, expect, test } from 'vitest';
import {
  migrate,
  MIGRATIONS,
} from '../../server/master/store/postgres/migrations.js';
import { CLAIM_ONE_JOB } from '../../server/master/store/postgres/pg-claims.js';
import { PgClusterStore } from '../../server/master/store/postgres/pg-cluster-store.js';
import type { JobId } from '../../shared/protocol.js';
import {
  numbered,
  outcomeOf,
  readAll,
  silence,
  spec,
  TTL,
  useClusterStore,
} from '../helpers/postgres-fixtures.js';
import { testPool } from '../helpers/postgres.js';

const ctx = useClusterStore();

async function jidOf(pool: pg.Pool, id: string): Promise<number> {
  const { rows } = await pool.query<{ jid: string }>(
    'SELECT jid FROM jobs WHERE id = $1',
    [id],
  );
  return Number(rows[0]!.jid);
}

describe('migrations', () => {
  test('apply once when several masters start together, and again changes nothing', async () => {
    const fresh = await ctx.db.another();
    {
      const opened = await Promise.all(
        Array.from({ length: 4 }, () => PgClusterStore.open({ url: fresh })),
      );
      await Promise.all(opened.map((s) => s.close()));
      const pool = testPool(fresh);
      try {
        const { rows } = await pool.query<{ version: number }>(
          'SELECT version FROM schema_migrations ORDER BY version',
        );
        expect(rows.map((r) => r.version)).toEqual(
          MIGRATIONS.map((m) => m.version),
        );
        expect(await migrate(pool)).toEqual([]);
        await expect(
          migrate(pool, [{ version: 99, name: 'x', sql: 'SELEC 1' }]),
        ).rejects.toThrow();
        // A failed migration leaves nothing behind.
        const after = await pool.query('SELECT version FROM schema_migrations');
        expect(after.rowCount).toBe(MIGRATIONS.length);
      } finally {
        await pool.end();
      }
    }
  });

  test('version 1 upgrades in place: its tasks kept, claims scan the queued tasks index', async () => {
    const fresh = await ctx.db.another();
    const pool = testPool(fresh);
    try {
      expect(await migrate(pool, MIGRATIONS.slice(0, 1))).toEqual([1]);
      // A version-1 task row, queued, survives the upgrade.
      await pool.query(
        `INSERT INTO jobs (id, name, module_hash, options, priority, created_at,
           task_count, sealed, state)
         VALUES ('old', 'old', 'h', '{}', 0, 0, 1, true, 'running')`,
      );
      await pool.query(
        "INSERT INTO tasks (jid, idx, input_text) SELECT jid, 0, '7' FROM jobs",
      );
      const store = await PgClusterStore.open({ url: fresh });
      try {
        const { rows } = await pool.query<{ version: number }>(
          'SELECT version FROM schema_migrations ORDER BY version',
        );
        expect(rows.map((r) => r.version)).toEqual([1, 2]);
        await store.heartbeat('m', 'a', []);
        const [old] = await store.claim('m', 5, 'old' as JobId);
        expect(old).toMatchObject({ index: 0, input: '7' });
        // Statistics taken right after a bulk insert say every task is queued: the
        // claim must still read the queued tasks' index, never the job's ended tasks.
        const job = spec(3_000);
        await store.createJob(job, numbered(3_000));
        const plan = await pool.query<{ 'QUERY PLAN': unknown }>(
          `EXPLAIN (FORMAT JSON) ${CLAIM_ONE_JOB}`,
          ['m', (await jidOf(pool, job.id)).toString(), 500, job.id],
        );
        const text = JSON.stringify(plan.rows[0]!['QUERY PLAN']);
        expect(text).toContain('"Index Name":"tasks_queued"');
        // The update finds the picked rows by the primary key: no scan of every task.
        expect(text).toContain('"Index Name":"tasks_pkey"');
        expect(scansOf(plan.rows[0]!['QUERY PLAN'])).not.toContain(
          'Seq Scan tasks',
        );
      } finally {
        await store.close();
      }
    } finally {
      await pool.end();
    }
  });

  test('a database newer than this code is refused', async () => {
    await expect(migrate(ctx.admin, [])).rejects.toThrow(
      /newer than this colony/,
    );
  });
});

/** Every scan of an EXPLAIN (FORMAT JSON) plan, as "Node Type Relation Name". */
function scansOf(plan: unknown): string[] {
  const scans: string[] = [];
  const visit = (node: unknown): void => {
    if (Array.isArray(node)) return node.forEach(visit);
    if (typeof node !== 'object' || node === null) return;
    const n = node as Record<string, unknown>;
    if (typeof n['Relation Name'] === 'string')
      scans.push(`${String(n['Node Type'])} ${n['Relation Name']}`);
    for (const value of Object.values(n)) visit(value);
  };
  visit(plan);
  return scans;
}

describe('jobs', () => {
  test('keeps modules by hash, first source wins', async () => {
    await ctx.store.putModule('m1', 'export default (x) => x;');
    await ctx.store.putModule('m1', 'other');
    expect(await ctx.store.getModule('m1')).toBe('export default (x) => x;');
    expect(await ctx.store.getModule('missing')).toBeUndefined();
  });

  test('tasks carry their inputs, text and bytes apart, appended in order', async () => {
    const job = spec(3, false);
    const values = ['"é ✓ 🐝"', '', '42'];
    await ctx.store.createJob(job, values);
    await ctx.store.appendInputs(job.id, 3, [
      new Uint8Array([0, 1, 255]),
      new Uint8Array(0),
    ]);
    await expect(ctx.store.appendInputs(job.id, 3, ['1'])).rejects.toThrow(
      /start at 5/,
    );
    expect(await ctx.store.claim('m', 10, job.id)).toEqual([]); // no presence yet
    await ctx.store.heartbeat('m', 'a', []);
    const claimed = await ctx.store.claim('m', 10, job.id);
    expect(claimed.map((t) => t.index)).toEqual([0, 1, 2, 3, 4]);
    expect(claimed.map((t) => t.input)).toEqual([
      ...values,
      new Uint8Array([0, 1, 255]),
      new Uint8Array(0),
    ]);
    expect(claimed[3]!.input).toBeInstanceOf(Uint8Array);
    const row = await ctx.store.getJob(job.id);
    expect(row?.counts).toEqual({
      total: 5,
      queued: 0,
      running: 5,
      done: 0,
      failed: 0,
    });
    expect(row?.spec).toEqual({ ...job, taskCount: 5 });
  });

  test('a job completes exactly once: by its last result, or by its seal', async () => {
    await ctx.store.heartbeat('m', 'a', []);
    const open = spec(2, false);
    await ctx.store.createJob(open, numbered(2));
    const tasks = await ctx.store.claim('m', 10, open.id);
    const first = await ctx.store.recordBatch(
      'm',
      tasks.map((t) => outcomeOf(t)),
    );
    expect(first).toEqual({ accepted: [true, true], completed: [] });
    expect(await ctx.store.sealJob(open.id)).toBe(true);
    expect(await ctx.store.sealJob(open.id)).toBe(false);
    const ended = await ctx.store.getJob(open.id);
    expect(ended?.state).toBe('completed');
    expect(ended?.finishedAt).toBeGreaterThan(0);

    const sealed = spec(3);
    await ctx.store.createJob(sealed, numbered(3));
    const more = await ctx.store.claim('m', 10, sealed.id);
    const a = await ctx.store.recordBatch('m', [outcomeOf(more[0]!)]);
    const b = await ctx.store.recordBatch(
      'm',
      more.slice(1).map((t) => outcomeOf(t)),
    );
    const again = await ctx.store.recordBatch(
      'm',
      more.map((t) => outcomeOf(t)),
    );
    expect(a.completed).toEqual([]);
    expect(b.completed).toEqual([sealed.id]);
    expect(again).toEqual({ accepted: [false, false, false], completed: [] });
    expect((await ctx.store.getJob(sealed.id))?.counts.done).toBe(3);
  });

  test('cancel ends a running job once, and its tasks are no longer claimed', async () => {
    await ctx.store.heartbeat('m', 'a', []);
    const job = spec(10);
    await ctx.store.createJob(job, numbered(10));
    expect(await ctx.store.cancelJob(job.id)).toBe(true);
    expect(await ctx.store.cancelJob(job.id)).toBe(false);
    expect(await ctx.store.claim('m', 10, job.id)).toEqual([]);
    const row = await ctx.store.getJob(job.id);
    expect(row?.state).toBe('cancelled');
    expect(row?.counts).toEqual({
      total: 10,
      queued: 0,
      running: 0,
      done: 0,
      failed: 0,
    });
    expect(await ctx.store.purgeJob(job.id)).toBe(true);
    expect(await ctx.store.getJob(job.id)).toBeUndefined();
  });

  test('lists jobs newest first, paged and filtered by state', async () => {
    const ids: JobId[] = [];
    for (let i = 0; i < 3; i++) {
      const job = spec(1);
      await ctx.store.createJob(job, numbered(1));
      ids.push(job.id);
    }
    await ctx.store.cancelJob(ids[1]!);
    expect(await ctx.store.purgeJob(ids[0]!)).toBe(false); // still running
    const page = await ctx.store.listJobs({ limit: 2 });
    expect(page.map((j) => j.spec.id)).toEqual([ids[2], ids[1]]);
    const next = await ctx.store.listJobs({ limit: 1, before: ids[1]! });
    expect(next.map((j) => j.spec.id)).toEqual([ids[0]]);
    const cancelled = await ctx.store.listJobs({
      limit: 100,
      state: 'cancelled',
    });
    expect(cancelled.map((j) => j.spec.id)).toContain(ids[1]);
    expect(cancelled.every((j) => j.state === 'cancelled')).toBe(true);
  });
});

describe('claims and fencing', () => {
  test('a taken-over claim fences its old writer; the new one records', async () => {
    const job = spec(4);
    await ctx.store.createJob(job, numbered(4));
    await ctx.store.heartbeat('old', 'a', []);
    await ctx.store.heartbeat('new', 'b', []);
    const stale = await ctx.store.claim('old', 4, job.id);
    expect(await ctx.store.takeOverExpired(TTL)).toBe(0);
    await silence(ctx.admin, 'old');
    expect(await ctx.store.takeOverExpired(TTL)).toBe(4);
    const fresh = await ctx.store.claim('new', 4, job.id);
    expect(fresh.map((t) => t.index)).toEqual([0, 1, 2, 3]);

    // The old master comes back: claims nothing before its heartbeat says it lapsed,
    // and its writes change nothing.
    await ctx.store.createJob(spec(1), numbered(1));
    expect(await ctx.store.claim('old', 4)).toEqual([]);
    expect(await ctx.store.heartbeat('old', 'a', [])).toEqual({
      lapsed: true,
    });
    expect(await ctx.store.heartbeat('old', 'a', [])).toEqual({
      lapsed: false,
    });
    const late = await ctx.store.recordBatch(
      'old',
      stale.map((t) => outcomeOf(t, '"stale"')),
    );
    expect(late).toEqual({
      accepted: [false, false, false, false],
      completed: [],
    });
    expect(await ctx.store.release('old', stale)).toBe(0);
    // A claim that committed just after a takeover (simulated: lapsed, claims kept) is
    // requeued by the heartbeat that tells the master it lapsed.
    const kept = await ctx.store.claim('old', 1);
    expect(kept.length).toBe(1);
    await ctx.admin.query("UPDATE masters SET lapsed = true WHERE id = 'old'");
    expect(await ctx.store.heartbeat('old', 'a', [])).toEqual({ lapsed: true });
    expect(await ctx.store.release('old', kept)).toBe(0);
    const good = await ctx.store.recordBatch(
      'new',
      fresh.map((t) => outcomeOf(t)),
    );
    expect(good.accepted).toEqual([true, true, true, true]);
    expect(good.completed).toEqual([job.id]);
    const results = await readAll(ctx.store, job.id);
    expect(results.map((r) => r.outcome)).toEqual(
      numbered(4).map((output) => ({ ok: true, output })),
    );
  });

  test('progress (attempts, deaths, votes) follows a task to its next claimer', async () => {
    const job = spec(1, true, 2);
    await ctx.store.createJob(job, numbered(1));
    await ctx.store.heartbeat('a', 'a', []);
    const [task] = await ctx.store.claim('a', 1, job.id);
    const votes = { d1: { output: '"x"', workers: ['w1'] } };
    const saved = await ctx.store.recordBatch('a', [
      {
        kind: 'progress',
        jobId: job.id,
        index: 0,
        token: task!.token,
        attempts: 1,
        deaths: 2,
        votes,
      },
    ]);
    expect(saved.accepted).toEqual([true]);
    expect(await ctx.store.release('a', [task!])).toBe(1);
    const [again] = await ctx.store.claim('a', 1, job.id);
    expect(again).toMatchObject({ attempts: 1, deaths: 2, votes });
    expect(again!.token).not.toBe(task!.token);
    const failed = await ctx.store.recordBatch('a', [
      {
        kind: 'outcome',
        jobId: job.id,
        index: 0,
        token: again!.token,
        outcome: { ok: false, error: 'boom', code: 'E_TASK_FAILED' },
      },
    ]);
    expect(failed.completed).toEqual([job.id]);
    expect((await readAll(ctx.store, job.id)).map((r) => r.outcome)).toEqual([
      { ok: false, error: 'boom', code: 'E_TASK_FAILED' },
    ]);
  });

  test('presence lists live masters with their workers; leave removes it', async () => {
    await ctx.store.heartbeat('p1', 'http://a', { count: 3 });
    await ctx.store.heartbeat('p2', 'http://b', { count: 1 });
    await silence(ctx.admin, 'p2');
    const live = await ctx.store.liveMasters(TTL);
    expect(live.map((m) => [m.id, m.address, m.workers])).toEqual([
      ['p1', 'http://a', { count: 3 }],
    ]);
    await ctx.store.leave('p1');
    expect(await ctx.store.liveMasters(TTL)).toEqual([]);
  });
});
