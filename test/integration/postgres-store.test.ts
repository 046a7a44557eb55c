// The shared PostgreSQL store against a real PostgreSQL: migrations, claims of several
// masters, fencing, takeover, exactly-once recording and completion, cursors, hints.
import pg from 'pg';
import {
  afterAll,
  beforeAll,
  beforeEach,
  describe,
  expect,
  test,
} from 'vitest';
import type { JobSpec } from '../../server/master/scheduler/types.js';
import type {
  ClaimedTask,
  ClusterHint,
  RecordEntry,
} from '../../server/master/store/postgres/cluster-store.js';
import { ClusterListener } from '../../server/master/store/postgres/listener.js';
import {
  migrate,
  MIGRATIONS,
} from '../../server/master/store/postgres/migrations.js';
import { PgClusterStore } from '../../server/master/store/postgres/pg-cluster-store.js';
import type { StoredResult } from '../../server/master/store/store.js';
import { usePostgres, type TestPostgres } from '../helpers/postgres.js';

const TTL = 60_000;
let db: TestPostgres;
let admin: pg.Pool;
let store: PgClusterStore;
let jobCounter = 0;

beforeAll(async () => {
  db = await usePostgres();
  admin = new pg.Pool({ connectionString: db.url, max: 2 });
  store = await PgClusterStore.open({ url: db.url });
});

afterAll(async () => {
  await store?.close();
  await admin?.end();
  await db?.stop();
});

beforeEach(async () => {
  // Masters of one test must not look alive (or dead) to the next one: their claims
  // go back to the queue.
  await admin.query('DELETE FROM masters');
  await store.takeOverExpired(TTL);
});

function spec(taskCount: number, sealed = true, replicas = 1): JobSpec {
  return {
    id: `job-${++jobCounter}`,
    name: 'test job',
    moduleHash: 'h1',
    options: { timeoutMs: 60_000, maxAttempts: 3, replicas, priority: 0 },
    taskCount,
    sealed,
    createdAt: Date.now(),
  };
}

function numbered(count: number, from = 0): string[] {
  return Array.from({ length: count }, (_, i) => JSON.stringify(from + i));
}

/** Makes a master look silent for an hour, as if it had been killed. */
async function silence(master: string): Promise<void> {
  await admin.query(
    "UPDATE masters SET heartbeat_at = heartbeat_at - interval '1 hour' WHERE id = $1",
    [master],
  );
}

function outcomeOf(task: ClaimedTask, output = task.input): RecordEntry {
  return {
    kind: 'outcome',
    jobId: task.jobId,
    index: task.index,
    token: task.token,
    outcome: { ok: true, output },
  };
}

async function readAll(jobId: string, pageSize = 100): Promise<StoredResult[]> {
  const all: StoredResult[] = [];
  for (;;) {
    const page = await store.readResults(jobId, all.at(-1)?.seq ?? 0, pageSize);
    if (page.length === 0) return all;
    all.push(...page);
  }
}

describe('migrations', () => {
  test('apply once when several masters start together, and again changes nothing', async () => {
    const fresh = await db.another();
    {
      const opened = await Promise.all(
        Array.from({ length: 4 }, () => PgClusterStore.open({ url: fresh })),
      );
      await Promise.all(opened.map((s) => s.close()));
      const pool = new pg.Pool({ connectionString: fresh, max: 1 });
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

  test('a database newer than this code is refused', async () => {
    await expect(migrate(admin, [])).rejects.toThrow(/newer than this colony/);
  });
});

describe('jobs', () => {
  test('keeps modules by hash, first source wins', async () => {
    await store.putModule('m1', 'export default (x) => x;');
    await store.putModule('m1', 'other');
    expect(await store.getModule('m1')).toBe('export default (x) => x;');
    expect(await store.getModule('missing')).toBeUndefined();
  });

  test('tasks carry their inputs, text and bytes apart, appended in order', async () => {
    const job = spec(3, false);
    const values = ['"é ✓ 🐝"', '', '42'];
    await store.createJob(job, values);
    await store.appendInputs(job.id, 3, [
      new Uint8Array([0, 1, 255]),
      new Uint8Array(0),
    ]);
    await expect(store.appendInputs(job.id, 3, ['1'])).rejects.toThrow(
      /start at 5/,
    );
    await store.heartbeat('m', 'a', [], TTL);
    const claimed = await store.claim('m', 10, job.id);
    expect(claimed.map((t) => t.index)).toEqual([0, 1, 2, 3, 4]);
    expect(claimed.map((t) => t.input)).toEqual([
      ...values,
      new Uint8Array([0, 1, 255]),
      new Uint8Array(0),
    ]);
    expect(claimed[3]!.input).toBeInstanceOf(Uint8Array);
    const row = await store.getJob(job.id);
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
    await store.heartbeat('m', 'a', [], TTL);
    const open = spec(2, false);
    await store.createJob(open, numbered(2));
    const tasks = await store.claim('m', 10, open.id);
    const first = await store.recordBatch(
      'm',
      tasks.map((t) => outcomeOf(t)),
    );
    expect(first).toEqual({ accepted: [true, true], completed: [] });
    expect(await store.sealJob(open.id)).toBe(true);
    expect(await store.sealJob(open.id)).toBe(false);
    const ended = await store.getJob(open.id);
    expect(ended?.state).toBe('completed');
    expect(ended?.finishedAt).toBeGreaterThan(0);

    const sealed = spec(3);
    await store.createJob(sealed, numbered(3));
    const more = await store.claim('m', 10, sealed.id);
    const a = await store.recordBatch('m', [outcomeOf(more[0]!)]);
    const b = await store.recordBatch(
      'm',
      more.slice(1).map((t) => outcomeOf(t)),
    );
    const again = await store.recordBatch(
      'm',
      more.map((t) => outcomeOf(t)),
    );
    expect(a.completed).toEqual([]);
    expect(b.completed).toEqual([sealed.id]);
    expect(again).toEqual({ accepted: [false, false, false], completed: [] });
    expect((await store.getJob(sealed.id))?.counts.done).toBe(3);
  });

  test('cancel ends a running job once, and its tasks are no longer claimed', async () => {
    await store.heartbeat('m', 'a', [], TTL);
    const job = spec(10);
    await store.createJob(job, numbered(10));
    expect(await store.cancelJob(job.id)).toBe(true);
    expect(await store.cancelJob(job.id)).toBe(false);
    expect(await store.claim('m', 10, job.id)).toEqual([]);
    const row = await store.getJob(job.id);
    expect(row?.state).toBe('cancelled');
    expect(row?.counts).toEqual({
      total: 10,
      queued: 0,
      running: 0,
      done: 0,
      failed: 0,
    });
    expect(await store.purgeJob(job.id)).toBe(true);
    expect(await store.getJob(job.id)).toBeUndefined();
  });

  test('lists jobs newest first, paged and filtered by state', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      const job = spec(1);
      await store.createJob(job, numbered(1));
      ids.push(job.id);
    }
    await store.cancelJob(ids[1]!);
    expect(await store.purgeJob(ids[0]!)).toBe(false); // still running
    const page = await store.listJobs({ limit: 2 });
    expect(page.map((j) => j.spec.id)).toEqual([ids[2], ids[1]]);
    const next = await store.listJobs({ limit: 1, before: ids[1]! });
    expect(next.map((j) => j.spec.id)).toEqual([ids[0]]);
    const cancelled = await store.listJobs({ limit: 100, state: 'cancelled' });
    expect(cancelled.map((j) => j.spec.id)).toContain(ids[1]);
    expect(cancelled.every((j) => j.state === 'cancelled')).toBe(true);
  });
});

describe('claims and fencing', () => {
  test('two masters claiming at once never get the same task', async () => {
    const job = spec(1_000);
    await store.createJob(job, numbered(1_000));
    await store.heartbeat('m1', 'a', [], TTL);
    await store.heartbeat('m2', 'b', [], TTL);
    const other = await PgClusterStore.open({ url: db.url });
    const got = new Map<string, ClaimedTask[]>([
      ['m1', []],
      ['m2', []],
    ]);
    const drain = async (s: PgClusterStore, master: string) => {
      for (;;) {
        const batch = await s.claim(master, 37, job.id);
        if (batch.length === 0) return;
        got.get(master)!.push(...batch);
      }
    };
    try {
      await Promise.all([
        drain(store, 'm1'),
        drain(store, 'm1'),
        drain(other, 'm2'),
        drain(other, 'm2'),
      ]);
    } finally {
      await other.close();
    }
    const all = [...got.get('m1')!, ...got.get('m2')!].map((t) => t.index);
    expect(all.length).toBe(1_000);
    expect(new Set(all).size).toBe(1_000);
    expect(got.get('m1')!.length).toBeGreaterThan(0);
    expect(got.get('m2')!.length).toBeGreaterThan(0);
  });

  test('a taken-over claim fences its old writer; the new one records', async () => {
    const job = spec(4);
    await store.createJob(job, numbered(4));
    await store.heartbeat('old', 'a', [], TTL);
    await store.heartbeat('new', 'b', [], TTL);
    const stale = await store.claim('old', 4, job.id);
    expect(await store.takeOverExpired(TTL)).toBe(0);
    await silence('old');
    expect(await store.takeOverExpired(TTL)).toBe(4);
    const fresh = await store.claim('new', 4, job.id);
    expect(fresh.map((t) => t.index)).toEqual([0, 1, 2, 3]);

    // The old master comes back: told it lapsed, and its writes change nothing.
    expect(await store.heartbeat('old', 'a', [], TTL)).toEqual({
      lapsed: true,
    });
    expect(await store.heartbeat('old', 'a', [], TTL)).toEqual({
      lapsed: false,
    });
    const late = await store.recordBatch(
      'old',
      stale.map((t) => outcomeOf(t, '"stale"')),
    );
    expect(late).toEqual({
      accepted: [false, false, false, false],
      completed: [],
    });
    expect(await store.release('old', stale)).toBe(0);
    const good = await store.recordBatch(
      'new',
      fresh.map((t) => outcomeOf(t)),
    );
    expect(good.accepted).toEqual([true, true, true, true]);
    expect(good.completed).toEqual([job.id]);
    const results = await readAll(job.id);
    expect(results.map((r) => r.outcome)).toEqual(
      numbered(4).map((output) => ({ ok: true, output })),
    );
  });

  test('progress (attempts, deaths, votes) follows a task to its next claimer', async () => {
    const job = spec(1, true, 2);
    await store.createJob(job, numbered(1));
    await store.heartbeat('a', 'a', [], TTL);
    const [task] = await store.claim('a', 1, job.id);
    const votes = { d1: { output: '"x"', workers: ['w1'] } };
    const saved = await store.recordBatch('a', [
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
    expect(await store.release('a', [task!])).toBe(1);
    const [again] = await store.claim('a', 1, job.id);
    expect(again).toMatchObject({ attempts: 1, deaths: 2, votes });
    expect(again!.token).not.toBe(task!.token);
    const failed = await store.recordBatch('a', [
      {
        kind: 'outcome',
        jobId: job.id,
        index: 0,
        token: again!.token,
        outcome: { ok: false, error: 'boom' },
      },
    ]);
    expect(failed.completed).toEqual([job.id]);
    expect((await readAll(job.id)).map((r) => r.outcome)).toEqual([
      { ok: false, error: 'boom' },
    ]);
  });

  test('presence lists live masters with their workers; leave removes it', async () => {
    await store.heartbeat('p1', 'http://a', { count: 3 }, TTL);
    await store.heartbeat('p2', 'http://b', { count: 1 }, TTL);
    await silence('p2');
    const live = await store.liveMasters(TTL);
    expect(live.map((m) => [m.id, m.address, m.workers])).toEqual([
      ['p1', 'http://a', { count: 3 }],
    ]);
    await store.leave('p1');
    expect(await store.liveMasters(TTL)).toEqual([]);
  });
});

describe('hints', () => {
  test('inputs and cancels of other masters arrive as one notification per call', async () => {
    const hints: ClusterHint[] = [];
    let wake: () => void = () => undefined;
    const listener = new ClusterListener({
      url: db.url,
      pollMs: 3_600_000,
      onHint: (hint) => {
        hints.push(hint);
        wake();
      },
    });
    await listener.start();
    const until = (n: number) =>
      new Promise<void>((resolve) => {
        wake = () => hints.length >= n && resolve();
        wake();
      });
    try {
      const job = spec(2, false);
      await store.createJob(job, numbered(2));
      await store.appendInputs(job.id, 2, numbered(5_000, 2));
      await store.cancelJob(job.id);
      await until(3);
      expect(hints).toEqual([
        { type: 'inputs', jobId: job.id },
        { type: 'inputs', jobId: job.id },
        { type: 'cancel', jobId: job.id },
      ]);
    } finally {
      await listener.close();
    }
  });
});

/** A small seeded PRNG (mulberry32): a failing run can be replayed from its seed. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

describe('under concurrent claims, records, deaths and takeovers', () => {
  const seed = Date.now() % 100_000;

  test(`every task is recorded exactly once and the job completes once (seed ${seed})`, async () => {
    const random = prng(seed);
    const N = 600;
    const job = spec(N / 2, false);
    await store.createJob(job, numbered(N / 2));
    const expected = (i: number) =>
      i % 7 === 0
        ? { ok: false as const, error: `e${i}` }
        : { ok: true as const, output: JSON.stringify(i) };
    const stores = [store, await PgClusterStore.open({ url: db.url })];
    const completions: string[] = [];
    let accepted = 0;
    let fenced = 0;
    let sent = 0;

    const entryOf = (t: ClaimedTask): RecordEntry => ({
      kind: 'outcome',
      jobId: t.jobId,
      index: t.index,
      token: t.token,
      outcome: expected(JSON.parse(t.input as string) as number),
    });
    const record = async (
      s: PgClusterStore,
      m: string,
      tasks: ClaimedTask[],
    ) => {
      const r = await s.recordBatch(m, tasks.map(entryOf));
      sent += tasks.length;
      completions.push(...r.completed);
      for (const ok of r.accepted) {
        if (ok) accepted++;
        else fenced++;
      }
    };
    const ended = async () => (await store.getJob(job.id))?.state !== 'running';

    // A master: claims, records, sometimes gives some back; a mortal one may die (its
    // heartbeat ages) and later write what it still held, as a stopped process would.
    const master = async (id: string, s: PgClusterStore, mortal: boolean) => {
      await s.heartbeat(id, id, [], TTL);
      while (!(await ended())) {
        await s.takeOverExpired(TTL);
        const tasks = await s.claim(id, 1 + Math.floor(random() * 40), job.id);
        if (mortal && random() < 0.15) {
          await silence(id);
          await record(s, id, tasks);
          return;
        }
        if (random() < 0.3) {
          const cut = Math.floor(random() * tasks.length);
          await s.release(id, tasks.slice(cut));
          await record(s, id, tasks.slice(0, cut));
        } else {
          await record(s, id, tasks);
        }
        await s.heartbeat(id, id, [], TTL);
      }
    };
    const follower = async () => {
      const seen: StoredResult[] = [];
      for (;;) {
        const done = await ended();
        const page = await stores[1]!.readResults(
          job.id,
          seen.at(-1)?.seq ?? 0,
          50,
        );
        seen.push(...page);
        if (done && page.length === 0) return seen;
      }
    };
    const appender = async () => {
      await store.appendInputs(job.id, N / 2, numbered(N / 2, N / 2));
      await store.sealJob(job.id).then((c) => c && completions.push(job.id));
    };

    try {
      const [followed] = await Promise.all([
        follower(),
        appender(),
        master('a', stores[0]!, false),
        master('b', stores[1]!, false),
        ...Array.from({ length: 4 }, (_, i) =>
          master(`mortal-${i}`, stores[i % 2]!, true),
        ),
      ]);
      const results = await readAll(job.id);
      expect(results.length).toBe(N);
      const byIndex = new Map(results.map((r) => [r.index, r.outcome]));
      expect(byIndex.size).toBe(N);
      for (let i = 0; i < N; i++) expect(byIndex.get(i)).toEqual(expected(i));
      expect(accepted).toBe(N);
      expect(accepted + fenced).toBe(sent);
      expect(completions).toEqual([job.id]);
      // The follower saw every result once, in the order of the final read.
      expect(followed.map((r) => r.seq)).toEqual(results.map((r) => r.seq));
      const row = await store.getJob(job.id);
      const failures = Math.ceil(N / 7);
      expect(row?.counts).toEqual({
        total: N,
        queued: 0,
        running: 0,
        done: N - failures,
        failed: failures,
      });
    } finally {
      await stores[1]!.close();
    }
  });
});
