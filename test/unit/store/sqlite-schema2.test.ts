// The migration of a schema 2 file (failures without a code) to schema 3: in place, every
// row kept, each old failure given the code of the kind its message names.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, expect, test } from 'vitest';
import { SCHEMA_VERSION } from '../../../server/master/store/sqlite-schema.js';
import { SqliteStore } from '../../../server/master/store/sqlite-store.js';
import type { StoredResult } from '../../../server/master/store/store.js';
import { unbranded, type Unbranded } from '../../helpers/ids.js';

const cleanups: (() => void)[] = [];

afterEach(() => {
  for (const cleanup of cleanups.splice(0).reverse()) cleanup();
});

function freshDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'colony-sqlite2-'));
  cleanups.push(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

// The schema 2 tables as that release created them.
const SCHEMA_2 = `
CREATE TABLE modules (hash TEXT PRIMARY KEY, source TEXT NOT NULL);
CREATE TABLE jobs (
  jid INTEGER PRIMARY KEY,
  id TEXT NOT NULL UNIQUE,
  spec TEXT NOT NULL,
  task_count INTEGER NOT NULL,
  sealed INTEGER NOT NULL,
  state TEXT NOT NULL,
  finished_at INTEGER
);
CREATE TABLE inputs (
  jid INTEGER NOT NULL,
  first INTEGER NOT NULL,
  count INTEGER NOT NULL,
  value BLOB NOT NULL,
  PRIMARY KEY (jid, first)
);
CREATE TABLE results (
  jid INTEGER NOT NULL,
  seq INTEGER NOT NULL,
  idx INTEGER NOT NULL,
  ok INTEGER NOT NULL,
  output BLOB,
  error TEXT,
  PRIMARY KEY (jid, seq),
  UNIQUE (jid, idx)
) WITHOUT ROWID;
`;

/** [idx, ok, output, error] rows of job 1, written with seq = idx + 1. */
const ROWS: [number, number, string | null, string | null][] = [
  [0, 1, '"zero"', null],
  [1, 0, null, 'TypeError: x is undefined'],
  [2, 0, null, 'killed its worker 3 times; last: exited with code 1'],
  [3, 0, null, 'dispatched 26 times without a result'],
  [4, 0, null, 'replicas disagree: 7 results, at most 1 equal, 2 needed'],
  [5, 0, null, 'the word replicas disagree: inside a message'],
];

function writeV2(dir: string): void {
  const db = new Database(path.join(dir, 'colony.db'));
  try {
    db.pragma('journal_mode = WAL');
    db.exec(SCHEMA_2);
    db.pragma('user_version = 2');
    const spec = {
      id: 'a',
      name: 'job a',
      moduleHash: 'h1',
      options: { timeoutMs: 60_000, maxAttempts: 5, replicas: 1, priority: 0 },
      createdAt: 1_000,
    };
    db.prepare(
      `INSERT INTO jobs VALUES (1, 'a', ?, ${ROWS.length}, 0, 'running', NULL)`,
    ).run(JSON.stringify(spec));
    db.prepare('INSERT INTO inputs VALUES (1, 0, ?, ?)').run(
      ROWS.length,
      ROWS.map((_, i) => String(i)).join('\n'),
    );
    const insert = db.prepare('INSERT INTO results VALUES (1, ?, ?, ?, ?, ?)');
    for (const [idx, ok, output, error] of ROWS)
      insert.run(idx + 1, idx, ok, output, error);
  } finally {
    db.close();
  }
}

function outcomes(store: Unbranded<SqliteStore>): StoredResult['outcome'][] {
  return store.readResults('a', 0, 100).map((r) => r.outcome);
}

test('a schema 2 file is migrated in place to 3: old failures read back with the code their message names, E_TASK_FAILED otherwise', async () => {
  const dir = freshDir();
  writeV2(dir);
  const store = unbranded(new SqliteStore({ dir }));
  cleanups.push(() => store.close());
  expect(outcomes(store)).toEqual([
    { ok: true, output: '"zero"' },
    { ok: false, error: ROWS[1]![3], code: 'E_TASK_FAILED' },
    { ok: false, error: ROWS[2]![3], code: 'E_TASK_KILLED_WORKERS' },
    { ok: false, error: ROWS[3]![3], code: 'E_TOO_MANY_DISPATCHES' },
    { ok: false, error: ROWS[4]![3], code: 'E_REPLICAS_DISAGREE' },
    { ok: false, error: ROWS[5]![3], code: 'E_TASK_FAILED' },
  ]);
  expect(store.getInputs('a', [5, 0])).toEqual(['5', '0']);
  expect(store.loadJobs()[0]!.marks).toEqual(
    new Uint8Array([1, 2, 2, 2, 2, 2]),
  );
  store.close();

  const db = new Database(path.join(dir, 'colony.db'), { readonly: true });
  try {
    expect(db.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION);
    expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
    const nulls = db
      .prepare('SELECT COUNT(*) FROM results WHERE ok = 0 AND code IS NULL')
      .pluck()
      .get();
    expect(nulls).toBe(0);
  } finally {
    db.close();
  }
});

test('a migrated schema 2 file stores new failures with their code and reopens as it is', async () => {
  const dir = freshDir();
  writeV2(dir);
  new SqliteStore({ dir }).close();
  const store = unbranded(new SqliteStore({ dir }));
  cleanups.push(() => store.close());
  expect(outcomes(store).filter((o) => !o.ok)).toHaveLength(5);
  store.appendInputs('a', ROWS.length, ['6']);
  store.recordResult('a', 6, {
    ok: false,
    error: 'killed its worker 3 times; last: out of memory',
    code: 'E_TOO_MANY_DISPATCHES',
  });
  await store.commit();
  // A stored code is kept as it was written, not re-derived from the message.
  expect(store.readResults('a', ROWS.length, 10)[0]!.outcome).toEqual({
    ok: false,
    error: 'killed its worker 3 times; last: out of memory',
    code: 'E_TOO_MANY_DISPATCHES',
  });
});

test('a schema 2 migration that fails leaves the file at schema 2, untouched', () => {
  const dir = freshDir();
  writeV2(dir);
  // A column in the way of the migration's own.
  const db = new Database(path.join(dir, 'colony.db'));
  db.exec('ALTER TABLE results ADD COLUMN code INTEGER');
  db.exec('UPDATE jobs SET spec = spec WHERE 0');
  db.close();
  expect(() => new SqliteStore({ dir })).toThrow();
  const file = new Database(path.join(dir, 'colony.db'), { readonly: true });
  try {
    expect(file.pragma('user_version', { simple: true })).toBe(2);
    expect(
      file
        .prepare('SELECT COUNT(*) FROM results WHERE code IS NOT NULL')
        .pluck()
        .get(),
    ).toBe(0);
  } finally {
    file.close();
  }
});
