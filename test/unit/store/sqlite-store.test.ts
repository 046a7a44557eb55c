// SqliteStore beyond the shared contract: how inputs are laid out in chunk rows, what a
// reopened file reads back, and the migration of a schema 1 file (the first release).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, test } from 'vitest';
import type { JobSpec } from '../../../server/master/scheduler/types.js';
import { SCHEMA_VERSION } from '../../../server/master/store/sqlite-schema.js';
import { SqliteStore } from '../../../server/master/store/sqlite-store.js';
import type {
  EncodedValue,
  StoredResult,
} from '../../../server/master/store/store.js';
import { jobId, unbranded, type Unbranded } from '../../helpers/ids.js';

const cleanups: (() => void)[] = [];

afterEach(() => {
  for (const cleanup of cleanups.splice(0).reverse()) cleanup();
});

function freshDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'colony-sqlite-'));
  cleanups.push(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

type Store = Unbranded<SqliteStore>;

function openStore(dir: string): Store {
  const store = unbranded(new SqliteStore({ dir }));
  cleanups.push(() => store.close());
  return store;
}

/** A read-only look at the file, next to an open store (WAL allows it). */
function peek<T>(dir: string, read: (db: Database.Database) => T): T {
  const db = new Database(path.join(dir, 'colony.db'), { readonly: true });
  try {
    return read(db);
  } finally {
    db.close();
  }
}

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

function readAll(store: Store, jobId: string): StoredResult[] {
  const all: StoredResult[] = [];
  for (;;) {
    const page = store.readResults(jobId, all.at(-1)?.seq ?? 0, 100);
    if (page.length === 0) return all;
    all.push(...page);
  }
}

/** [first, count] of a job's chunk rows. */
function chunksOf(dir: string, jobId: string): [number, number][] {
  return peek(dir, (db) =>
    db
      .prepare<[string], [number, number]>(
        `SELECT first, count FROM inputs
         WHERE jid = (SELECT jid FROM jobs WHERE id = ?) ORDER BY first`,
      )
      .raw()
      .all(jobId),
  );
}

describe('SqliteStore chunk rows', () => {
  test('at most 256 texts a row; each append starts a row', () => {
    const dir = freshDir();
    const store = openStore(dir);
    store.createJob(spec('a', 600, false), numbered(600));
    store.appendInputs('a', 600, numbered(3, 600));
    store.appendInputs('a', 603, numbered(257, 603));
    expect(chunksOf(dir, 'a')).toEqual([
      [0, 256],
      [256, 256],
      [512, 88],
      [600, 3],
      [603, 256],
      [859, 1],
    ]);
  });

  test('bytes, texts with a raw newline and texts over 256 KB go alone', () => {
    const dir = freshDir();
    const store = openStore(dir);
    const values: EncodedValue[] = [
      '0',
      '1',
      new Uint8Array([2]),
      '3',
      'raw\nnewline',
      JSON.stringify('escaped\nnewline'),
      '6',
      JSON.stringify('x'.repeat(300_000)),
      JSON.stringify('y'.repeat(200_000)),
      JSON.stringify('z'.repeat(100_000)),
      '10',
    ];
    store.createJob(spec('a', values.length), values);
    expect(chunksOf(dir, 'a')).toEqual([
      [0, 2],
      [2, 1],
      [3, 1],
      [4, 1],
      [5, 2],
      [7, 1],
      // 200 KB + 100 KB would pass 256 KB: two rows.
      [8, 1],
      [9, 2],
    ]);
    expect(store.getInputs('a', [...values.keys()])).toEqual(values);
  });
});

describe('SqliteStore reopened', () => {
  test('reads back every input, in runs and scattered', () => {
    const dir = freshDir();
    const values: EncodedValue[] = numbered(1_000).map((v, i) =>
      i % 150 === 7 ? new Uint8Array([i & 255]) : i % 170 === 9 ? `a\n${v}` : v,
    );
    const first = unbranded(new SqliteStore({ dir }));
    first.createJob(spec('a', 700, false), values.slice(0, 700));
    // Read (and cached) before the append and the restart.
    expect(first.getInputs('a', [699, 0, 255, 256])).toEqual([
      values[699],
      values[0],
      values[255],
      values[256],
    ]);
    first.appendInputs('a', 700, values.slice(700));
    first.close();

    const second = openStore(dir);
    const all = [...values.keys()];
    expect(second.getInputs('a', all)).toEqual(values);
    const scattered = all.map((i) => (i * 389) % values.length);
    expect(second.getInputs('a', scattered)).toEqual(
      scattered.map((i) => values[i]),
    );
    for (let from = 0; from < values.length; from += 333) {
      expect(second.getInputs('a', all.slice(from, from + 400))).toEqual(
        values.slice(from, from + 400),
      );
    }
    expect(() => second.getInputs('a', [1_000])).toThrow(RangeError);
  });

  test('a chunk row missing from the file is a RangeError, not a wrong input', () => {
    const dir = freshDir();
    unbranded(new SqliteStore({ dir })).createJob(
      spec('a', 1_000),
      numbered(1_000),
    );
    const db = new Database(path.join(dir, 'colony.db'));
    db.prepare('DELETE FROM inputs WHERE first = 256').run();
    db.close();
    const store = openStore(dir);
    expect(store.getInputs('a', [255, 512])).toEqual(['255', '512']);
    expect(() => store.getInputs('a', [300])).toThrow(RangeError);
    expect(() =>
      store.getInputs('a', [250, 251, 252, 253, 254, 255, 256]),
    ).toThrow(RangeError);
    expect(() => store.getInputs('a', [500, 600])).toThrow(RangeError);
    const across = [...Array(300).keys()].map((i) => 250 + i);
    expect(() => store.getInputs('a', across)).toThrow(RangeError);
    expect(store.getInputs('a', across.slice(-10))).toEqual(numbered(10, 540));
  });

  test('seq keeps increasing after a restart, whichever job had the last one', async () => {
    const dir = freshDir();
    const first = unbranded(new SqliteStore({ dir }));
    first.createJob(spec('a', 10), numbered(10));
    first.createJob(spec('b', 10), numbered(10));
    first.recordResult('b', 0, { ok: true, output: '0' });
    first.recordResult('b', 1, { ok: true, output: '1' });
    first.recordResult('a', 0, { ok: true, output: '0' });
    first.recordResult('b', 2, { ok: true, output: '2' });
    // Ignored (first result wins): its seq is never written.
    first.recordResult('a', 0, {
      ok: false,
      error: 'again',
      code: 'E_TASK_FAILED',
    });
    await first.commit();
    const before = [...readAll(first, 'a'), ...readAll(first, 'b')];
    expect(before).toHaveLength(4);
    const lastSeq = Math.max(...before.map((r) => r.seq));
    first.close();

    const second = openStore(dir);
    second.recordResult('a', 0, {
      ok: false,
      error: 'late repeat',
      code: 'E_TASK_FAILED',
    });
    second.recordResult('a', 5, { ok: true, output: '5' });
    await second.commit();
    const a = readAll(second, 'a');
    expect(a.map((r) => [r.index, r.outcome])).toEqual([
      [0, { ok: true, output: '0' }],
      [5, { ok: true, output: '5' }],
    ]);
    expect(a[1]!.seq).toBeGreaterThan(lastSeq);
    // A reader that had everything up to lastSeq gets exactly the new result.
    expect(second.readResults('a', lastSeq, 10).map((r) => r.index)).toEqual([
      5,
    ]);
  });
});

// The schema of the first release (SCHEMA_VERSION 1), as it created its files.
const SCHEMA_1 = `
CREATE TABLE IF NOT EXISTS modules (
  hash TEXT PRIMARY KEY,
  source TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS jobs (
  jid INTEGER PRIMARY KEY,
  id TEXT NOT NULL UNIQUE,
  spec TEXT NOT NULL,
  task_count INTEGER NOT NULL,
  sealed INTEGER NOT NULL,
  state TEXT NOT NULL,
  finished_at INTEGER
);
CREATE TABLE IF NOT EXISTS inputs (
  jid INTEGER NOT NULL,
  idx INTEGER NOT NULL,
  value BLOB NOT NULL,
  PRIMARY KEY (jid, idx)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS results (
  seq INTEGER PRIMARY KEY,
  jid INTEGER NOT NULL,
  idx INTEGER NOT NULL,
  ok INTEGER NOT NULL,
  output BLOB,
  error TEXT,
  UNIQUE (jid, idx)
);
CREATE INDEX IF NOT EXISTS results_by_job_seq ON results (jid, seq);
`;

type V1Result = [
  seq: number,
  jid: number,
  idx: number,
  ok: number,
  output: EncodedValue | null,
  error: string | null,
];

describe('SqliteStore on a schema 1 file', () => {
  // Job a: 5,000 inputs (past one page of the migration's reads), bytes and raw
  // newlines among them; b: unsealed, 3 inputs, cancelled; c: no inputs.
  const aInputs: EncodedValue[] = Array.from({ length: 5_000 }, (_, i) =>
    i % 611 === 3
      ? new Uint8Array([i & 255, 10])
      : i % 733 === 5
        ? `raw\n${i}`
        : i === 4_096
          ? ''
          : JSON.stringify({ x: i, s: `é${i}\n` }),
  );
  const bInputs = ['"b0"', '"b1"', '"b2"'];
  // Seqs with gaps, the two jobs interleaved, as the first release wrote them.
  const v1Results: V1Result[] = [
    [3, 1, 10, 1, '"ten"', null],
    [4, 2, 1, 0, null, 'boom'],
    [7, 1, 3, 1, new Uint8Array([1, 2, 3]), null],
    [8, 1, 4_999, 0, null, 'last failed'],
    [12, 2, 0, 1, '"b zero"', null],
    [15, 1, 0, 1, '""', null],
  ];

  function writeV1(dir: string): void {
    const db = new Database(path.join(dir, 'colony.db'));
    try {
      db.pragma('journal_mode = WAL');
      db.exec(SCHEMA_1);
      db.pragma('user_version = 1');
      db.prepare('INSERT INTO modules VALUES (?, ?)').run('h1', 'src');
      const job = db.prepare(
        `INSERT INTO jobs (jid, id, spec, task_count, sealed, state, finished_at)
         VALUES (?, ?, ?, ?, ?, ?, ?)`,
      );
      const fixed = (id: string) => {
        const { taskCount: _t, sealed: _s, ...rest } = spec(id, 0);
        return JSON.stringify(rest);
      };
      job.run(1, 'a', fixed('a'), aInputs.length, 1, 'running', null);
      job.run(2, 'b', fixed('b'), bInputs.length, 0, 'cancelled', 77);
      job.run(3, 'c', fixed('c'), 0, 1, 'completed', 88);
      const input = db.prepare('INSERT INTO inputs VALUES (?, ?, ?)');
      db.transaction(() => {
        aInputs.forEach((value, i) => input.run(1, i, value));
        bInputs.forEach((value, i) => input.run(2, i, value));
      })();
      const result = db.prepare(
        'INSERT INTO results VALUES (?, ?, ?, ?, ?, ?)',
      );
      for (const row of v1Results) result.run(...row);
    } finally {
      db.close();
    }
  }

  test('is migrated: every job, input and result kept, seq included', async () => {
    const dir = freshDir();
    writeV1(dir);
    const store = openStore(dir);

    expect(store.getModule('h1')).toBe('src');
    const jobs = store.loadJobs();
    expect(jobs.map((j) => [j.spec, j.state, j.finishedAt])).toEqual([
      [spec('a', 5_000), 'running', null],
      [spec('b', 3, false), 'cancelled', 77],
      [spec('c', 0), 'completed', 88],
    ]);
    const aMarks = new Uint8Array(5_000);
    aMarks[10] = 1;
    aMarks[3] = 1;
    aMarks[4_999] = 2;
    aMarks[0] = 1;
    expect(jobs[0]!.marks).toEqual(aMarks);
    expect(jobs[1]!.marks).toEqual(new Uint8Array([1, 2, 0]));
    expect(jobs[2]!.marks).toEqual(new Uint8Array(0));

    const all = [...aInputs.keys()];
    expect(store.getInputs('a', all)).toEqual(aInputs);
    expect(store.getInputs('a', [4_999, 3, 5, 4_096, 0])).toEqual([
      aInputs[4_999],
      aInputs[3],
      aInputs[5],
      aInputs[4_096],
      aInputs[0],
    ]);
    expect(store.getInputs('b', [2, 1, 0])).toEqual(['"b2"', '"b1"', '"b0"']);
    expect(() => store.getInputs('a', [5_000])).toThrow(RangeError);

    const outcome = ([, , , ok, output, error]: V1Result) =>
      // A failure of schema 1 had no code: a task's own message reads as E_TASK_FAILED.
      ok === 1
        ? { ok: true, output }
        : { ok: false, error, code: 'E_TASK_FAILED' };
    expect(readAll(store, 'a')).toEqual(
      v1Results
        .filter((r) => r[1] === 1)
        .map((r) => ({ seq: r[0], index: r[2], outcome: outcome(r) })),
    );
    expect(readAll(store, 'b')).toEqual(
      v1Results
        .filter((r) => r[1] === 2)
        .map((r) => ({ seq: r[0], index: r[2], outcome: outcome(r) })),
    );
    // Cursors taken before the upgrade stay valid.
    expect(store.readResults('a', 7, 10).map((r) => r.seq)).toEqual([8, 15]);

    // The store carries on: the first result still wins, seq goes on from the file's.
    store.recordResult('a', 10, {
      ok: false,
      error: 'repeat',
      code: 'E_TASK_FAILED',
    });
    store.recordResult('a', 11, { ok: true, output: '"eleven"' });
    store.appendInputs('b', 3, ['"b3"']);
    await store.commit();
    const after = store.readResults('a', 15, 10);
    expect(after.map((r) => [r.index, r.outcome])).toEqual([
      [11, { ok: true, output: '"eleven"' }],
    ]);
    expect(after[0]!.seq).toBeGreaterThan(15);
    expect(store.getInputs('b', [3, 0])).toEqual(['"b3"', '"b0"']);

    peek(dir, (db) => {
      expect(db.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION);
      expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
      const tables = db
        .prepare<[], string>(
          `SELECT name FROM sqlite_schema WHERE type = 'table' ORDER BY name`,
        )
        .pluck()
        .all();
      expect(tables).toEqual([
        'checkpoints',
        'inputs',
        'jobs',
        'modules',
        'results',
        'volunteers',
      ]);
      expect(
        db
          .prepare<[], number>('SELECT COUNT(*) FROM inputs WHERE jid = 1')
          .pluck()
          .get(),
      ).toBeLessThan(100);
    });
  });

  test('a migrated file reopens as it is', () => {
    const dir = freshDir();
    writeV1(dir);
    new SqliteStore({ dir }).close();
    const store = openStore(dir);
    expect(store.getInputs('a', [...aInputs.keys()])).toEqual(aInputs);
    expect(readAll(store, 'a').map((r) => r.seq)).toEqual([3, 7, 8, 15]);
  });

  test('a migration that fails leaves the file at schema 1, untouched', () => {
    const dir = freshDir();
    writeV1(dir);
    // A table in the way of the migration's own.
    const db = new Database(path.join(dir, 'colony.db'));
    db.exec('CREATE TABLE inputs_v1 (x)');
    db.close();
    expect(() => new SqliteStore({ dir })).toThrow();
    peek(dir, (file) => {
      expect(file.pragma('user_version', { simple: true })).toBe(1);
      expect(
        file.prepare<[], number>('SELECT COUNT(*) FROM inputs').pluck().get(),
      ).toBe(aInputs.length + bInputs.length);
      expect(
        file.prepare<[], number>('SELECT COUNT(*) FROM results').pluck().get(),
      ).toBe(v1Results.length);
    });
  });
});
