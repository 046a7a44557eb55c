// One contract, two stores: MemoryStore stands in for SqliteStore in other tests, so
// both must behave alike. Each SqliteStore gets a real file in a fresh temp dir.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, test } from 'vitest';
import type { JobSpec } from '../../../server/master/scheduler/types.js';
import { TaskMark } from '../../../server/master/scheduler/types.js';
import { MemoryStore } from '../../../server/master/store/memory-store.js';
import { SqliteStore } from '../../../server/master/store/sqlite-store.js';
import { jobId, unbranded, type Unbranded } from '../../helpers/ids.js';
import type {
  EncodedValue,
  Store,
  StoredResult,
} from '../../../server/master/store/store.js';

const cleanups: (() => void)[] = [];

afterEach(() => {
  for (const cleanup of cleanups.splice(0)) cleanup();
});

const factories: { name: string; open: () => Unbranded<Store> }[] = [
  {
    name: 'MemoryStore',
    open: () => {
      const store = new MemoryStore();
      cleanups.push(() => store.close());
      return unbranded(store);
    },
  },
  {
    name: 'SqliteStore',
    open: () => {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'colony-store-'));
      const store = new SqliteStore({ dir });
      cleanups.push(() => {
        store.close();
        fs.rmSync(dir, { recursive: true, force: true });
      });
      return unbranded(store);
    },
  },
];

function spec(id: string, taskCount: number, sealed = true): JobSpec {
  return {
    id: jobId(id),
    name: `job ${id}`,
    moduleHash: 'h1',
    options: { timeoutMs: 60_000, maxAttempts: 5, replicas: 1, priority: 0 },
    taskCount,
    sealed,
    createdAt: 1_000,
  };
}

function numbered(count: number, from = 0): string[] {
  return Array.from({ length: count }, (_, i) => JSON.stringify(from + i));
}

function readAll(
  store: Unbranded<Store>,
  jobId: string,
  pageSize = 1_000,
): StoredResult[] {
  const all: StoredResult[] = [];
  for (;;) {
    const page = store.readResults(jobId, all.at(-1)?.seq ?? 0, pageSize);
    if (page.length === 0) return all;
    all.push(...page);
  }
}

describe.each(factories)('$name', ({ open }) => {
  test('keeps modules by hash, first source wins', () => {
    const store = open();
    expect(store.getModule('h1')).toBeUndefined();
    store.putModule('h1', 'export default (x) => x;');
    store.putModule('h1', 'something else');
    store.putModule('h2', 'export default () => 2;');
    expect(store.getModule('h1')).toBe('export default (x) => x;');
    expect(store.getModule('h2')).toBe('export default () => 2;');
  });

  test('returns inputs in the order asked', () => {
    const store = open();
    store.createJob(spec('a', 20), numbered(20));
    const asText = (indices: number[]) =>
      store.getInputs('a', indices).map((v) => JSON.parse(v as string));
    expect(asText([0, 1, 2, 3])).toEqual([0, 1, 2, 3]);
    expect(asText([19, 18, 17, 0])).toEqual([19, 18, 17, 0]);
    expect(asText([5, 9, 2, 3, 4, 15, 16])).toEqual([5, 9, 2, 3, 4, 15, 16]);
    expect(asText([7, 7, 8, 8])).toEqual([7, 7, 8, 8]);
    expect(asText([])).toEqual([]);
    expect(asText([...Array(20).keys()])).toEqual([...Array(20).keys()]);
  });

  test('refuses inputs that do not exist', () => {
    const store = open();
    store.createJob(spec('a', 3), numbered(3));
    expect(() => store.getInputs('a', [3])).toThrow();
    expect(() => store.getInputs('a', [1, 2, 3])).toThrow();
    expect(() => store.getInputs('nope', [0])).toThrow();
  });

  test('keeps text and bytes apart', () => {
    const store = open();
    const values: EncodedValue[] = [
      '42',
      '"text"',
      '',
      '{"é":"✓ 🐝"}',
      new Uint8Array([0, 1, 2, 255]),
      new Uint8Array(0),
    ];
    store.createJob(spec('a', values.length), values);
    const back = store.getInputs('a', [0, 1, 2, 3, 4, 5]);
    expect(back).toEqual(values);
    for (const value of back.slice(4)) {
      expect(Object.getPrototypeOf(value)).toBe(Uint8Array.prototype);
    }
    expect(store.getInputs('a', [4, 5])).toEqual(values.slice(4));
  });

  test('copies bytes: a caller mutating its array later changes nothing', async () => {
    const store = open();
    const input = new Uint8Array([1, 2, 3]);
    const output = new Uint8Array([4, 5, 6]);
    store.createJob(spec('a', 1), [input]);
    store.recordResult('a', 0, { ok: true, output });
    await store.commit();
    input[0] = 9;
    output[0] = 9;
    expect(store.getInputs('a', [0])).toEqual([new Uint8Array([1, 2, 3])]);
    expect(store.readResults('a', 0, 1)[0]?.outcome).toEqual({
      ok: true,
      output: new Uint8Array([4, 5, 6]),
    });
  });

  test('appends inputs in order and seals', () => {
    const store = open();
    store.createJob(spec('a', 2, false), numbered(2));
    store.appendInputs('a', 2, numbered(3, 2));
    store.appendInputs('a', 5, []);
    expect(() => store.appendInputs('a', 4, numbered(1, 4))).toThrow();
    expect(() => store.appendInputs('a', 6, numbered(1, 6))).toThrow();
    expect(store.getInputs('a', [4, 3, 2, 1, 0])).toEqual(
      numbered(5).reverse(),
    );
    expect(store.loadJobs()[0]?.spec).toMatchObject({
      taskCount: 5,
      sealed: false,
    });
    store.sealJob('a');
    store.sealJob('a');
    expect(() => store.appendInputs('a', 5, numbered(1, 5))).toThrow();
    expect(store.loadJobs()[0]?.spec).toMatchObject({
      taskCount: 5,
      sealed: true,
    });
  });

  test('refuses a duplicate job and a taskCount that is not the inputs', () => {
    const store = open();
    store.createJob(spec('a', 1), numbered(1));
    expect(() => store.createJob(spec('a', 1), numbered(1))).toThrow();
    expect(() => store.createJob(spec('b', 2), numbered(1))).toThrow();
    expect(store.loadJobs().map((j) => j.spec.id)).toEqual(['a']);
  });

  test('results become readable at commit, paged by seq', async () => {
    const store = open();
    store.createJob(spec('a', 10), numbered(10));
    store.createJob(spec('b', 10), numbered(10));
    for (const i of [3, 1, 4, 0, 9]) {
      store.recordResult('a', i, { ok: true, output: `"a${i}"` });
      store.recordResult('b', i, { ok: true, output: `"b${i}"` });
    }
    store.recordResult('a', 5, {
      ok: false,
      error: 'boom',
      code: 'E_TASK_KILLED_WORKERS',
    });
    store.recordResult('a', 6, { ok: true, output: new Uint8Array([6]) });
    expect(store.readResults('a', 0, 100)).toEqual([]);
    await store.commit();

    const all = store.readResults('a', 0, 100);
    expect(all.map((r) => r.index)).toEqual([3, 1, 4, 0, 9, 5, 6]);
    expect(all[0]?.outcome).toEqual({ ok: true, output: '"a3"' });
    expect(all[5]?.outcome).toEqual({
      ok: false,
      error: 'boom',
      code: 'E_TASK_KILLED_WORKERS',
    });
    expect(all[6]?.outcome).toEqual({ ok: true, output: new Uint8Array([6]) });
    const seqs = all.map((r) => r.seq);
    expect(seqs).toEqual([...seqs].sort((x, y) => x - y));
    expect(new Set(seqs).size).toBe(seqs.length);

    expect(store.readResults('a', 0, 2)).toEqual(all.slice(0, 2));
    expect(store.readResults('a', all[1]!.seq, 3)).toEqual(all.slice(2, 5));
    expect(store.readResults('a', all[6]!.seq, 3)).toEqual([]);
    expect(store.readResults('a', 0, 0)).toEqual([]);
    expect(readAll(store, 'a', 2)).toEqual(all);
    expect(readAll(store, 'b', 3).map((r) => r.outcome)).toEqual(
      [3, 1, 4, 0, 9].map((i) => ({ ok: true, output: `"b${i}"` })),
    );
    expect(store.readResults('nope', 0, 10)).toEqual([]);
  });

  test('the first result of a task wins, within and across commits', async () => {
    const store = open();
    store.createJob(spec('a', 3), numbered(3));
    store.recordResult('a', 0, { ok: true, output: '"first"' });
    store.recordResult('a', 0, {
      ok: false,
      error: 'second',
      code: 'E_TASK_FAILED',
    });
    await store.commit();
    store.recordResult('a', 0, { ok: true, output: '"third"' });
    store.recordResult('a', 1, {
      ok: false,
      error: 'failed first',
      code: 'E_REPLICAS_DISAGREE',
    });
    await store.commit();
    store.recordResult('a', 1, { ok: true, output: '"late"' });
    await store.commit();
    const all = store.readResults('a', 0, 10);
    expect(all.map((r) => [r.index, r.outcome])).toEqual([
      [0, { ok: true, output: '"first"' }],
      [1, { ok: false, error: 'failed first', code: 'E_REPLICAS_DISAGREE' }],
    ]);
  });

  test('big batches: every input and result lands once, in order, whatever the batch size', async () => {
    const store = open();
    // Sizes around the multi-row statements' widths (1, 2, 4 .. 64 rows) and past them.
    const sizes = [1, 2, 3, 63, 64, 65, 127, 200, 1_000, 4_097, 5_000];
    const total = sizes.reduce((a, b) => a + b, 0);
    store.createJob(spec('a', sizes[0]!, false), numbered(sizes[0]!));
    let at = sizes[0]!;
    for (const size of sizes.slice(1)) {
      store.appendInputs('a', at, numbered(size, at));
      at += size;
    }
    const indices = [...Array(total).keys()];
    expect(store.getInputs('a', indices)).toEqual(numbered(total));
    expect(store.getInputs('a', indices.slice(70, 7_000))).toEqual(
      numbered(7_000 - 70, 70),
    );
    // Results in commits of those sizes, in a shuffled order, with failures, bytes and
    // repeats (the first result of a task wins) inside and across commits.
    const order = indices.map((i) => (i * 7_919) % total);
    expect(new Set(order).size).toBe(total);
    const expected = new Map<number, StoredResult['outcome']>();
    let k = 0;
    for (const size of sizes) {
      for (const i of order.slice(k, k + size)) {
        const outcome: StoredResult['outcome'] =
          i % 11 === 0
            ? { ok: false, error: `e${i}`, code: 'E_TOO_MANY_DISPATCHES' }
            : i % 13 === 0
              ? { ok: true, output: new Uint8Array([i % 256, 1]) }
              : { ok: true, output: `"r${i}"` };
        store.recordResult('a', i, outcome);
        if (!expected.has(i)) expected.set(i, outcome);
        // A repeat of an earlier task of this batch or of the one before.
        const again = order[Math.max(0, k - 3)]!;
        store.recordResult('a', again, {
          ok: false,
          error: 'repeat',
          code: 'E_TASK_FAILED',
        });
        if (!expected.has(again))
          expected.set(again, {
            ok: false,
            error: 'repeat',
            code: 'E_TASK_FAILED',
          });
      }
      k += size;
      await store.commit();
    }
    const all = readAll(store, 'a', 999);
    expect(all).toHaveLength(total);
    expect(new Map(all.map((r) => [r.index, r.outcome]))).toEqual(expected);
    expect(all.map((r) => r.index)).toEqual([...expected.keys()]);
    const seqs = all.map((r) => r.seq);
    expect(seqs).toEqual([...seqs].sort((x, y) => x - y));
  });

  test('refuses results for tasks that do not exist', () => {
    const store = open();
    store.createJob(spec('a', 2, false), numbered(2));
    const ok = { ok: true, output: '1' } as const;
    expect(() => store.recordResult('a', 2, ok)).toThrow(RangeError);
    expect(() => store.recordResult('a', -1, ok)).toThrow(RangeError);
    expect(() => store.recordResult('a', 0.5, ok)).toThrow(RangeError);
    expect(() => store.recordResult('nope', 0, ok)).toThrow();
    expect(() => store.finishJob('nope', 'completed', 1)).toThrow();
    store.appendInputs('a', 2, numbered(1, 2));
    expect(() => store.recordResult('a', 2, ok)).not.toThrow();
  });

  test('commits of one turn share one write; an empty commit resolves', async () => {
    const store = open();
    await store.commit();
    store.createJob(spec('a', 4), numbered(4));
    store.recordResult('a', 0, { ok: true, output: '0' });
    const first = store.commit();
    store.recordResult('a', 1, { ok: true, output: '1' });
    const second = store.commit();
    await Promise.all([first, second]);
    expect(store.readResults('a', 0, 10).map((r) => r.index)).toEqual([0, 1]);
  });

  test('finishJob is written at commit; the first end state stays', async () => {
    const store = open();
    store.createJob(spec('a', 1), numbered(1));
    store.createJob(spec('b', 1), numbered(1));
    store.finishJob('a', 'completed', 5_000);
    expect(store.loadJobs()[0]).toMatchObject({
      state: 'running',
      finishedAt: null,
    });
    await store.commit();
    store.finishJob('a', 'cancelled', 6_000);
    store.finishJob('b', 'cancelled', 7_000);
    await store.commit();
    const [a, b] = store.loadJobs();
    expect(a).toMatchObject({ state: 'completed', finishedAt: 5_000 });
    expect(b).toMatchObject({ state: 'cancelled', finishedAt: 7_000 });
  });

  test('loadJobs gives every job with its spec and marks', async () => {
    const store = open();
    const a = spec('a', 6);
    store.createJob(a, numbered(6));
    store.createJob(spec('b', 2, false), numbered(2));
    store.createJob(spec('c', 0, false), []);
    store.recordResult('a', 1, { ok: true, output: '1' });
    store.recordResult('a', 4, {
      ok: false,
      error: 'x',
      code: 'E_TASK_FAILED',
    });
    store.recordResult('a', 5, { ok: true, output: new Uint8Array([5]) });
    store.recordResult('b', 0, {
      ok: false,
      error: 'y',
      code: 'E_TASK_FAILED',
    });
    await store.commit();
    store.recordResult('a', 2, { ok: true, output: '2' });
    // Queued but not committed: not part of the durable state yet.
    const jobs = store.loadJobs();
    expect(jobs.map((j) => j.spec.id)).toEqual(['a', 'b', 'c']);
    expect(jobs[0]).toEqual({
      spec: a,
      state: 'running',
      finishedAt: null,
      marks: new Uint8Array([0, 1, 0, 0, 2, 1]),
      checkpointed: [],
    });
    expect(jobs[1]?.marks).toEqual(new Uint8Array([TaskMark.Failed, 0]));
    expect(jobs[2]?.marks).toEqual(new Uint8Array(0));
    await store.commit();
    expect(store.loadJobs()[0]?.marks).toEqual(
      new Uint8Array([0, 1, 1, 0, 2, 1]),
    );
  });

  // The SQLite store keeps inputs in chunks of up to 256 consecutive texts (and ~256 KB);
  // bytes and texts with a raw newline go alone. None of that may show from outside.
  test.each([0, 1, 255, 256, 257, 1_000])(
    'a job of %i inputs reads back whole, by runs and one by one',
    (count) => {
      const store = open();
      const inputs = numbered(count);
      store.createJob(spec('a', count), inputs);
      const all = [...Array(count).keys()];
      expect(store.getInputs('a', all)).toEqual(inputs);
      expect(store.getInputs('a', [...all].reverse())).toEqual(
        [...inputs].reverse(),
      );
      for (const i of all)
        expect(store.getInputs('a', [i])).toEqual([inputs[i]]);
      // Runs that start and end on every side of the chunk boundaries.
      for (const from of [0, 1, 254, 255, 256, 257, 511, 512, 513, 999]) {
        for (const length of [1, 2, 3, 256, 257, 600]) {
          const to = Math.min(count, from + length);
          if (from >= to) continue;
          expect(
            store.getInputs('a', all.slice(from, to)),
            `${from}..${to - 1}`,
          ).toEqual(inputs.slice(from, to));
        }
      }
      expect(() => store.getInputs('a', [count])).toThrow(RangeError);
      expect(() => store.getInputs('a', [count - 1, count])).toThrow(
        RangeError,
      );
      expect(() => store.getInputs('a', [-1])).toThrow(RangeError);
      expect(() => store.getInputs('a', [0.5])).toThrow(RangeError);
    },
  );

  test('appends of odd sizes continue the tasks, across chunk boundaries', () => {
    const store = open();
    const sizes = [3, 1, 255, 2, 0, 257, 256, 1, 300, 513];
    store.createJob(spec('a', sizes[0]!, false), numbered(sizes[0]!));
    let at = sizes[0]!;
    for (const size of sizes.slice(1)) {
      store.appendInputs('a', at, numbered(size, at));
      at += size;
      // Reads between appends: what was split before the append stays right.
      expect(store.getInputs('a', [at - 1, 0, Math.floor(at / 2)])).toEqual(
        numbered(1, at - 1).concat(numbered(1, 0), numbered(1, at >> 1)),
      );
    }
    const all = [...Array(at).keys()];
    expect(store.getInputs('a', all)).toEqual(numbered(at));
    for (let from = 0; from < at; from += 97) {
      expect(store.getInputs('a', all.slice(from, from + 150))).toEqual(
        numbered(Math.min(150, at - from), from),
      );
    }
    expect(() => store.getInputs('a', [at])).toThrow(RangeError);
  });

  test('bytes mixed with texts, and texts with newlines, keep their places', () => {
    const store = open();
    const values: EncodedValue[] = [];
    for (let i = 0; i < 700; i++) {
      values.push(
        i % 97 === 5
          ? new Uint8Array([i & 255, 10, 13, 0])
          : i % 101 === 7
            ? new Uint8Array(0)
            : i % 89 === 3
              ? // JSON.stringify escapes the newline: no raw '\n' is stored.
                JSON.stringify({ text: `line ${i}\nnext line\r\n` })
              : i % 83 === 1
                ? // Not JSON, but nothing forbids it: raw newlines.
                  `raw\n${i}\n`
                : i % 79 === 2
                  ? '\n'
                  : i % 73 === 4
                    ? ''
                    : JSON.stringify(`t${i}`),
      );
    }
    expect(values[3]).not.toContain('\n');
    expect(JSON.parse(values[3] as string)).toEqual({
      text: 'line 3\nnext line\r\n',
    });
    store.createJob(spec('a', 300, false), values.slice(0, 300));
    store.appendInputs('a', 300, values.slice(300));
    const all = [...Array(values.length).keys()];
    const back = store.getInputs('a', all);
    expect(back).toEqual(values);
    back.forEach((value, i) => {
      expect(typeof value, `input ${i}`).toBe(typeof values[i]);
      if (typeof value !== 'string')
        expect(Object.getPrototypeOf(value)).toBe(Uint8Array.prototype);
    });
    for (const i of [5, 7, 3, 1, 2, 4, 102, 108])
      expect(store.getInputs('a', [i])).toEqual([values[i]]);
    expect(store.getInputs('a', all.slice(80, 120))).toEqual(
      values.slice(80, 120),
    );
  });

  test('scattered asks, repeats, and two jobs with the same tasks', () => {
    const store = open();
    const n = 2_000;
    const a = numbered(n);
    const b = a.map((v) => `"b${v}"`);
    store.createJob(spec('a', n), a);
    store.createJob(spec('b', n), b);
    // A permutation, then runs that overlap it, asked of both jobs in turn.
    const scattered = [...Array(n).keys()].map((i) => (i * 1_237) % n);
    expect(new Set(scattered).size).toBe(n);
    for (let k = 0; k < n; k += 250) {
      const indices = scattered.slice(k, k + 250);
      expect(store.getInputs('a', indices)).toEqual(indices.map((i) => a[i]));
      expect(store.getInputs('b', indices)).toEqual(indices.map((i) => b[i]));
    }
    const mixed = [1_999, 0, 1, 2, 255, 256, 256, 1_000, 999, 998, 3, 4, 5, 5];
    expect(store.getInputs('a', mixed)).toEqual(mixed.map((i) => a[i]));
    expect(store.getInputs('b', mixed)).toEqual(mixed.map((i) => b[i]));
    for (let from = 0; from < n; from += 300) {
      const run = [...Array(Math.min(300, n - from)).keys()].map(
        (i) => from + i,
      );
      expect(store.getInputs('b', run)).toEqual(b.slice(from, from + 300));
      expect(store.getInputs('a', run)).toEqual(a.slice(from, from + 300));
    }
  });

  test('big inputs (over 256 KB) next to small ones', () => {
    const store = open();
    const big = (size: number, c: string) => JSON.stringify(c.repeat(size));
    const bytes = new Uint8Array(300_000).map((_, i) => i % 251);
    const values: EncodedValue[] = [
      '1',
      big(300_000, 'a'),
      '2',
      big(200_000, 'b'),
      big(100_000, 'c'),
      big(262_140, 'd'),
      '3',
      bytes,
      big(1_000_000, 'é'),
      ...numbered(300),
      big(262_144, 'e'),
    ];
    store.createJob(spec('a', values.length), values);
    // Compared as text: a deep compare of big byte arrays, item by item, is slow.
    const show = (list: EncodedValue[]) =>
      list.map((v) =>
        typeof v === 'string'
          ? v
          : `${Object.getPrototypeOf(v) === Uint8Array.prototype} ${Buffer.from(v).toString('hex')}`,
      );
    const all = [...Array(values.length).keys()];
    expect(show(store.getInputs('a', all))).toEqual(show(values));
    expect(show(store.getInputs('a', [...all].reverse()))).toEqual(
      show([...values].reverse()),
    );
    const some = [4, 3, 8, 7, 308, 9];
    expect(show(store.getInputs('a', some))).toEqual(
      show(some.map((i) => values[i]!)),
    );
  });

  test('close writes what is queued; closing twice is fine', () => {
    const store = open();
    store.createJob(spec('a', 2), numbered(2));
    store.recordResult('a', 0, { ok: true, output: '0' });
    const pending = store.commit();
    store.close();
    store.close();
    expect(() => store.recordResult('a', 1, { ok: true, output: '1' })).toThrow(
      /closed/,
    );
    return expect(pending).resolves.toBeUndefined();
  });
});
