// One record contract, three stores: what every store keeps of jobs, modules, inputs and
// results behaves alike on MemoryStore, SqliteStore (a real file) and the shared
// PostgreSQL store (a real server). The single-master `Store` is synchronous with group
// commits; `ClusterStore` is asynchronous with claims and fenced records. A small facade
// per store speaks the common part, and the same tests run against all three.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { JobId, JobSpec } from '../../server/master/scheduler/types.js';
import { MemoryStore } from '../../server/master/store/memory-store.js';
import { PgClusterStore } from '../../server/master/store/postgres/pg-cluster-store.js';
import { SqliteStore } from '../../server/master/store/sqlite-store.js';
import type {
  EncodedValue,
  Store,
  StoredOutcome,
  StoredResult,
} from '../../server/master/store/store.js';
import { jobId } from '../helpers/ids.js';
import { usePostgres, type TestPostgres } from '../helpers/postgres.js';

/** The part of a store every master relies on, whatever the store. */
interface Records {
  putModule(hash: string, source: string): Promise<void>;
  getModule(hash: string): Promise<string | undefined>;
  createJob(spec: JobSpec, inputs: readonly EncodedValue[]): Promise<void>;
  appendInputs(
    id: JobId,
    first: number,
    inputs: readonly EncodedValue[],
  ): Promise<void>;
  /** Inputs of the open tasks, by index. */
  openInputs(id: JobId, count: number): Promise<Map<number, EncodedValue>>;
  /** Records outcomes (as the job's owner), then the job's end once all are in. */
  record(id: JobId, outcomes: Map<number, StoredOutcome>): Promise<void>;
  readResults(id: JobId, after: number, limit: number): Promise<StoredResult[]>;
  /** Ends the job (completed) if it is not, then deletes it. */
  purge(id: JobId): Promise<void>;
  close(): Promise<void>;
}

function singleMaster(store: Store, cleanup?: () => void): Records {
  return {
    putModule: async (h, s) => store.putModule(h, s),
    getModule: async (h) => store.getModule(h),
    createJob: async (spec, inputs) => store.createJob(spec, inputs),
    appendInputs: async (id, first, inputs) =>
      store.appendInputs(id, first, inputs),
    openInputs: async (id, count) => {
      const indices = Array.from({ length: count }, (_, i) => i);
      const inputs = store.getInputs(id, indices);
      return new Map(indices.map((i) => [i, inputs[i]!]));
    },
    record: async (id, outcomes) => {
      for (const [index, outcome] of outcomes)
        store.recordResult(id, index, outcome);
      await store.commit();
    },
    readResults: async (id, after, limit) =>
      store.readResults(id, after, limit),
    purge: async (id) => {
      store.finishJob(id, 'completed', 1);
      await store.commit();
      await store.purgeJob(id);
    },
    close: async () => {
      store.close();
      cleanup?.();
    },
  };
}

function cluster(store: PgClusterStore): Records {
  const master = 'contract-master';
  const claims = new Map<string, number>();
  const key = (id: JobId, index: number) => `${id}/${index}`;
  const claimAll = async (id: JobId) => {
    await store.heartbeat(master, 'test', []);
    const tasks = await store.claim(master, 10_000, id);
    for (const t of tasks) claims.set(key(id, t.index), t.token);
    return tasks;
  };
  return {
    putModule: (h, s) => store.putModule(h, s),
    getModule: (h) => store.getModule(h),
    createJob: (spec, inputs) => store.createJob(spec, inputs),
    appendInputs: (id, first, inputs) => store.appendInputs(id, first, inputs),
    openInputs: async (id) => {
      const tasks = await claimAll(id);
      return new Map(tasks.map((t) => [t.index, t.input]));
    },
    record: async (id, outcomes) => {
      await claimAll(id);
      await store.recordBatch(
        master,
        [...outcomes].map(([index, outcome]) => ({
          kind: 'outcome' as const,
          jobId: id,
          index,
          // A task not claimed (ended already) quotes a token no claim has.
          token: claims.get(key(id, index)) ?? -1,
          outcome,
        })),
      );
    },
    readResults: (id, after, limit) => store.readResults(id, after, limit),
    purge: async (id) => {
      if ((await store.getJob(id))?.state === 'running')
        await store.cancelJob(id);
      await store.purgeJob(id);
    },
    close: () => store.close(),
  };
}

let pgServer: TestPostgres;
beforeAll(async () => {
  pgServer = await usePostgres();
});
afterAll(async () => {
  await pgServer.stop();
});

const factories: { name: string; open: () => Promise<Records> }[] = [
  { name: 'MemoryStore', open: async () => singleMaster(new MemoryStore()) },
  {
    name: 'SqliteStore',
    open: async () => {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'colony-contract-'));
      return singleMaster(new SqliteStore({ dir }), () =>
        fs.rmSync(dir, { recursive: true, force: true }),
      );
    },
  },
  {
    name: 'PgClusterStore',
    open: async () =>
      cluster(await PgClusterStore.open({ url: await pgServer.another() })),
  },
];

let jobs = 0;
function spec(taskCount: number, moduleHash = 'h1'): JobSpec {
  return {
    id: jobId(`${++jobs}`),
    name: `job ${jobs}`,
    moduleHash,
    options: { timeoutMs: 60_000, maxAttempts: 3, replicas: 1, priority: 0 },
    taskCount,
    sealed: true,
    createdAt: 1_000,
  };
}

const text = (i: number): StoredOutcome => ({
  ok: true,
  output: JSON.stringify({ i }),
});

async function readAll(r: Records, id: JobId, page = 7) {
  const all: StoredResult[] = [];
  for (;;) {
    const next = await r.readResults(id, all.at(-1)?.seq ?? 0, page);
    if (next.length === 0) return all;
    all.push(...next);
  }
}

describe.each(factories)('$name', ({ open }) => {
  test('modules by hash, the first source wins', async () => {
    const r = await open();
    try {
      await r.putModule('m1', 'export default (x) => x;');
      await r.putModule('m1', 'something else');
      expect(await r.getModule('m1')).toBe('export default (x) => x;');
      expect(await r.getModule('nope')).toBeUndefined();
    } finally {
      await r.close();
    }
  });

  test('inputs keep their index across appends; text and bytes stay apart', async () => {
    const r = await open();
    try {
      const job = spec(3);
      job.sealed = false;
      await r.putModule('h1', 'export default (x) => x;');
      await r.createJob(job, ['"a"', '{"b":1}', new Uint8Array([1, 2, 3])]);
      await r.appendInputs(job.id, 3, ['4', 'null']);
      const inputs = await r.openInputs(job.id, 5);
      expect([...inputs.keys()].sort()).toEqual([0, 1, 2, 3, 4]);
      expect(inputs.get(0)).toBe('"a"');
      expect(inputs.get(1)).toBe('{"b":1}');
      expect(inputs.get(2)).toBeInstanceOf(Uint8Array);
      expect([...(inputs.get(2) as Uint8Array)]).toEqual([1, 2, 3]);
      expect(inputs.get(3)).toBe('4');
      expect(inputs.get(4)).toBe('null');
    } finally {
      await r.close();
    }
  });

  test('every result once, paged by seq in order; the first result of a task wins', async () => {
    const r = await open();
    try {
      const job = spec(30);
      await r.putModule('h1', 'export default (x) => x;');
      await r.createJob(
        job,
        Array.from({ length: 30 }, (_, i) => String(i)),
      );
      const first = new Map<number, StoredOutcome>();
      for (const i of [3, 1, 4, 0, 9, 2, 6, 5]) first.set(i, text(i));
      first.set(7, { ok: false, error: 'boom', code: 'E_TASK_FAILED' });
      first.set(8, { ok: true, output: new Uint8Array([9, 8]) });
      await r.record(job.id, first);
      // A second result for a recorded task changes nothing.
      await r.record(job.id, new Map([[3, text(333)]]));
      const rest = new Map<number, StoredOutcome>();
      for (let i = 10; i < 30; i++) rest.set(i, text(i));
      await r.record(job.id, rest);

      const all = await readAll(r, job.id);
      expect(all.map((x) => x.index).sort((a, b) => a - b)).toEqual(
        Array.from({ length: 30 }, (_, i) => i),
      );
      const seqs = all.map((x) => x.seq);
      expect([...seqs].sort((a, b) => a - b)).toEqual(seqs);
      expect(new Set(seqs).size).toBe(30);
      const by = new Map(all.map((x) => [x.index, x.outcome]));
      expect(by.get(3)).toEqual(text(3));
      expect(by.get(7)).toEqual({
        ok: false,
        error: 'boom',
        code: 'E_TASK_FAILED',
      });
      const bytes = by.get(8);
      expect(bytes?.ok && [...(bytes.output as Uint8Array)]).toEqual([9, 8]);
      // Results of the first batch come before those of the last.
      const seqOf = (i: number) => all.find((x) => x.index === i)!.seq;
      expect(seqOf(9)).toBeLessThan(seqOf(20));
    } finally {
      await r.close();
    }
  });

  test('a purge deletes the job and its results; the module goes with its last job', async () => {
    const r = await open();
    try {
      await r.putModule('shared', 'export default (x) => x;');
      const one = spec(2, 'shared');
      const two = spec(2, 'shared');
      await r.createJob(one, ['1', '2']);
      await r.createJob(two, ['1', '2']);
      await r.record(
        one.id,
        new Map([
          [0, text(0)],
          [1, text(1)],
        ]),
      );
      await r.record(
        two.id,
        new Map([
          [0, text(0)],
          [1, text(1)],
        ]),
      );
      await r.purge(one.id);
      expect(await r.readResults(one.id, 0, 10)).toEqual([]);
      expect(await r.getModule('shared')).toBeDefined();
      expect((await readAll(r, two.id)).length).toBe(2);
      await r.purge(two.id);
      expect(await r.getModule('shared')).toBeUndefined();
    } finally {
      await r.close();
    }
  });
});
