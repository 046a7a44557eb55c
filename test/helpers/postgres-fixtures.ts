/**
 * Fixtures of the PostgreSQL store tests: one database and store per test file, job
 * specs, inputs, and a way to make a master look dead without waiting for it.
 */
import type pg from 'pg';
import { afterAll, beforeAll, beforeEach } from 'vitest';
import type { JobSpec } from '../../server/master/scheduler/types.js';
import type {
  ClaimedTask,
  RecordEntry,
} from '../../server/master/store/postgres/cluster-store.js';
import { PgClusterStore } from '../../server/master/store/postgres/pg-cluster-store.js';
import type { StoredResult } from '../../server/master/store/store.js';
import type { JobId } from '../../shared/protocol.js';
import { jobId } from './ids.js';
import { testPool, usePostgres, type TestPostgres } from './postgres.js';

/** Claim TTL of the tests: long, so that only `silence()` makes a master dead. */
export const TTL = 60_000;

export interface ClusterContext {
  db: TestPostgres;
  /** A pool for what the tests do behind the store's back. */
  admin: pg.Pool;
  store: PgClusterStore;
}

/** Registers the hooks of a test file; the fields are set once `beforeAll` ran. */
export function useClusterStore(): ClusterContext {
  const ctx = {} as ClusterContext;
  beforeAll(async () => {
    ctx.db = await usePostgres();
    ctx.admin = testPool(ctx.db.url, { max: 2 });
    ctx.store = await PgClusterStore.open({ url: ctx.db.url });
  });
  afterAll(async () => {
    await ctx.store?.close();
    await ctx.admin?.end();
    await ctx.db?.stop();
  });
  beforeEach(async () => {
    // Masters of one test must not look alive (or dead) to the next one: their claims
    // go back to the queue.
    await ctx.admin.query('DELETE FROM masters');
    await ctx.store.takeOverExpired(TTL);
  });
  return ctx;
}

let jobCounter = 0;

export function spec(taskCount: number, sealed = true, replicas = 1): JobSpec {
  return {
    id: jobId(`job-${++jobCounter}`),
    name: 'test job',
    moduleHash: 'h1',
    options: { timeoutMs: 60_000, maxAttempts: 3, replicas, priority: 0 },
    taskCount,
    sealed,
    createdAt: Date.now(),
  };
}

export function numbered(count: number, from = 0): string[] {
  return Array.from({ length: count }, (_, i) => JSON.stringify(from + i));
}

/** Makes a master look silent for an hour, as if it had been killed. */
export async function silence(admin: pg.Pool, master: string): Promise<void> {
  await admin.query(
    "UPDATE masters SET heartbeat_at = heartbeat_at - interval '1 hour' WHERE id = $1",
    [master],
  );
}

export function outcomeOf(task: ClaimedTask, output = task.input): RecordEntry {
  return {
    kind: 'outcome',
    jobId: task.jobId,
    index: task.index,
    token: task.token,
    outcome: { ok: true, output },
  };
}

export async function readAll(
  store: PgClusterStore,
  job: JobId,
  pageSize = 100,
): Promise<StoredResult[]> {
  const all: StoredResult[] = [];
  for (;;) {
    const page = await store.readResults(job, all.at(-1)?.seq ?? 0, pageSize);
    if (page.length === 0) return all;
    all.push(...page);
  }
}

/** A small seeded PRNG (mulberry32): a failing run can be replayed from its seed. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}
