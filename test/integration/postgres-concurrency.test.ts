// Several masters at once on a real PostgreSQL: claims never overlap, every task is
// recorded exactly once under claims, records, deaths and takeovers, and hints arrive
// (and the listener comes back after its connection is cut).
import { describe, expect, test } from 'vitest';
import type {
  ClaimedTask,
  ClusterHint,
  RecordEntry,
} from '../../server/master/store/postgres/cluster-store.js';
import { ClusterListener } from '../../server/master/store/postgres/listener.js';
import { PgClusterStore } from '../../server/master/store/postgres/pg-cluster-store.js';
import type { StoredResult } from '../../server/master/store/store.js';
import {
  numbered,
  prng,
  readAll,
  silence,
  spec,
  TTL,
  useClusterStore,
} from '../helpers/postgres-fixtures.js';

const ctx = useClusterStore();

describe('claims', () => {
  test('two masters claiming at once never get the same task', async () => {
    const job = spec(1_000);
    await ctx.store.createJob(job, numbered(1_000));
    await ctx.store.heartbeat('m1', 'a', []);
    await ctx.store.heartbeat('m2', 'b', []);
    const other = await PgClusterStore.open({ url: ctx.db.url });
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
        drain(ctx.store, 'm1'),
        drain(ctx.store, 'm1'),
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
});

describe('hints', () => {
  test('inputs and cancels of other masters arrive as one notification per call', async () => {
    const hints: ClusterHint[] = [];
    let wake: () => void = () => undefined;
    const listener = new ClusterListener({
      url: ctx.db.url,
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
      await ctx.store.createJob(job, numbered(2));
      await ctx.store.appendInputs(job.id, 2, numbered(5_000, 2));
      await ctx.store.cancelJob(job.id);
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

  test('a cut listening connection is remade: a poll hint, then notifications again', async () => {
    const hints: ClusterHint[] = [];
    const errors: Error[] = [];
    let wake: () => void = () => undefined;
    const listener = new ClusterListener({
      url: ctx.db.url,
      pollMs: 3_600_000,
      maxBackoffMs: 200,
      onError: (error) => errors.push(error),
      onHint: (hint) => {
        hints.push(hint);
        wake();
      },
    });
    const until = (n: number) =>
      new Promise<void>((resolve) => {
        wake = () => hints.length >= n && resolve();
        wake();
      });
    await listener.start();
    try {
      const cut = await ctx.admin.query(
        `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
         WHERE query LIKE 'LISTEN colony_inputs%' AND pid <> pg_backend_pid()`,
      );
      expect(cut.rowCount).toBe(1);
      await until(1);
      expect(hints).toEqual([{ type: 'poll' }]);
      expect(errors.length).toBeGreaterThan(0);
      const job = spec(1);
      await ctx.store.createJob(job, numbered(1));
      await until(2);
      expect(hints[1]).toEqual({ type: 'inputs', jobId: job.id });
    } finally {
      await listener.close();
    }
  });
});

describe('under concurrent claims, records, deaths and takeovers', () => {
  const seed = Date.now() % 100_000;

  test(`every task is recorded exactly once and the job completes once (seed ${seed})`, async () => {
    const random = prng(seed);
    const N = 600;
    const job = spec(N / 2, false);
    await ctx.store.createJob(job, numbered(N / 2));
    const expected = (i: number) =>
      i % 7 === 0
        ? { ok: false as const, error: `e${i}`, code: 'E_TASK_FAILED' as const }
        : { ok: true as const, output: JSON.stringify(i) };
    const stores = [ctx.store, await PgClusterStore.open({ url: ctx.db.url })];
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
    const ended = async () =>
      (await ctx.store.getJob(job.id))?.state !== 'running';

    // A master: claims, records, sometimes gives some back; a mortal one may die (its
    // heartbeat ages) and later write what it still held, as a stopped process would.
    const master = async (id: string, s: PgClusterStore, mortal: boolean) => {
      await s.heartbeat(id, id, []);
      while (!(await ended())) {
        await s.takeOverExpired(TTL);
        const tasks = await s.claim(id, 1 + Math.floor(random() * 40), job.id);
        if (mortal && random() < 0.15) {
          await silence(ctx.admin, id);
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
        await s.heartbeat(id, id, []);
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
      await ctx.store.appendInputs(job.id, N / 2, numbered(N / 2, N / 2));
      await ctx.store
        .sealJob(job.id)
        .then((c) => c && completions.push(job.id));
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
      const results = await readAll(ctx.store, job.id);
      expect(results.length).toBe(N);
      const byIndex = new Map(results.map((r) => [r.index, r.outcome]));
      expect(byIndex.size).toBe(N);
      for (let i = 0; i < N; i++) expect(byIndex.get(i)).toEqual(expected(i));
      expect(accepted).toBe(N);
      expect(accepted + fenced).toBe(sent);
      expect(completions).toEqual([job.id]);
      // The follower saw every result once, in the order of the final read.
      expect(followed.map((r) => r.seq)).toEqual(results.map((r) => r.seq));
      const row = await ctx.store.getJob(job.id);
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
