// Checkpoints in both stores (one contract), and the migration of a schema 4 SQLite file
// to schema 5: its rows kept, the checkpoints table added.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, test } from 'vitest';
import type { JobSpec } from '../../../server/master/scheduler/types.js';
import { MemoryStore } from '../../../server/master/store/memory-store.js';
import { SCHEMA_VERSION } from '../../../server/master/store/sqlite-schema.js';
import { SqliteStore } from '../../../server/master/store/sqlite-store.js';
import type { Store } from '../../../server/master/store/store.js';
import { jobId, unbranded, type Unbranded } from '../../helpers/ids.js';

const cleanups: (() => void)[] = [];

afterEach(() => {
  for (const cleanup of cleanups.splice(0).reverse()) cleanup();
});

function freshDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'colony-ckpt-'));
  cleanups.push(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

function openSqlite(dir: string): Unbranded<SqliteStore> {
  const store = new SqliteStore({ dir });
  cleanups.push(() => store.close());
  return unbranded(store);
}

const factories: { name: string; open: () => Unbranded<Store> }[] = [
  {
    name: 'MemoryStore',
    open: () => {
      const store = new MemoryStore();
      cleanups.push(() => store.close());
      return unbranded(store);
    },
  },
  { name: 'SqliteStore', open: () => openSqlite(freshDir()) },
];

/** Bytes as plain arrays: SQLite gives Buffers back, the memory store Uint8Arrays. */
const plain = (values: readonly unknown[]): unknown[] =>
  values.map((v) => (v instanceof Uint8Array ? [...v] : v));

function spec(id: string, taskCount: number): JobSpec {
  return {
    id: jobId(id),
    name: `job ${id}`,
    moduleHash: 'h1',
    options: { timeoutMs: 60_000, maxAttempts: 5, replicas: 1, priority: 0 },
    taskCount,
    sealed: true,
    createdAt: 1_000,
  };
}

describe.each(factories)('$name checkpoints', ({ open }) => {
  test('the latest of a task is kept, text or bytes, and read back in the order asked', () => {
    const store = open();
    store.createJob(spec('a', 3), ['1', '2', '3']);
    store.putCheckpoint('a', 2, '{"step":1}');
    store.putCheckpoint('a', 2, '{"step":2}');
    store.putCheckpoint('a', 0, Uint8Array.of(1, 2, 3));
    expect(plain(store.getCheckpoints('a', [2, 1, 0]))).toEqual([
      '{"step":2}',
      undefined,
      [1, 2, 3],
    ]);
  });

  test('a task has none after its checkpoint is dropped; the job has none after dropping all', () => {
    const store = open();
    store.createJob(spec('a', 3), ['1', '2', '3']);
    store.createJob(spec('b', 1), ['1']);
    for (const i of [0, 1, 2]) store.putCheckpoint('a', i, String(i));
    store.putCheckpoint('b', 0, '"b"');
    store.dropCheckpoints('a', 1);
    expect(store.getCheckpoints('a', [0, 1, 2])).toEqual(['0', undefined, '2']);
    store.dropCheckpoints('a');
    expect(store.getCheckpoints('a', [0, 1, 2])).toEqual([
      undefined,
      undefined,
      undefined,
    ]);
    expect(store.getCheckpoints('b', [0])).toEqual(['"b"']);
  });

  test('loadJobs says which tasks have one', () => {
    const store = open();
    store.createJob(spec('a', 4), ['1', '2', '3', '4']);
    store.putCheckpoint('a', 3, '3');
    store.putCheckpoint('a', 1, '1');
    expect(store.loadJobs().map((job) => job.checkpointed)).toEqual([[1, 3]]);
  });

  test('a task the job does not have is refused', () => {
    const store = open();
    store.createJob(spec('a', 1), ['1']);
    expect(() => store.putCheckpoint('a', 1, '1')).toThrow(RangeError);
    expect(() => store.putCheckpoint('nope', 0, '1')).toThrow(/no job/);
  });

  test('a purged job takes its checkpoints with it', async () => {
    const store = open();
    store.createJob(spec('a', 1), ['1']);
    store.createJob(spec('b', 1), ['1']);
    store.putCheckpoint('a', 0, '"a"');
    store.finishJob('a', 'cancelled', 2_000);
    await store.commit();
    await store.purgeJob('a');
    expect(store.loadJobs().map((job) => job.spec.id)).toEqual(['b']);
  });
});

describe('SqliteStore checkpoints', () => {
  test('are durable: a reopened file has them', () => {
    const dir = freshDir();
    const first = unbranded(new SqliteStore({ dir }));
    first.createJob(spec('a', 2), ['1', '2']);
    first.putCheckpoint('a', 1, Uint8Array.of(9, 9));
    first.close();
    const again = openSqlite(dir);
    expect(again.loadJobs()[0]?.checkpointed).toEqual([1]);
    expect(plain(again.getCheckpoints('a', [1]))).toEqual([[9, 9]]);
  });

  test('a purge deletes the rows from the file', async () => {
    const dir = freshDir();
    const store = openSqlite(dir);
    store.createJob(spec('a', 1), ['1']);
    store.putCheckpoint('a', 0, '"a"');
    store.finishJob('a', 'completed', 2_000);
    await store.commit();
    await store.purgeJob('a');
    const db = new Database(path.join(dir, 'colony.db'), { readonly: true });
    cleanups.push(() => db.close());
    expect(db.prepare('SELECT count(*) AS n FROM checkpoints').get()).toEqual({
      n: 0,
    });
  });

  test('a schema 4 file is migrated: its jobs kept, checkpoints possible', () => {
    const dir = freshDir();
    // Made by this colony, then turned back into what schema 4 was: no checkpoints table.
    const made = new SqliteStore({ dir });
    made.createJob(spec('a', 2), ['"x"', '"y"']);
    made.close();
    const db = new Database(path.join(dir, 'colony.db'));
    db.exec('DROP TABLE checkpoints');
    db.pragma('user_version = 4');
    db.close();

    const store = openSqlite(dir);
    expect(store.loadJobs()).toEqual([
      expect.objectContaining({ checkpointed: [] }),
    ]);
    expect(store.getInputs('a', [0, 1])).toEqual(['"x"', '"y"']);
    store.putCheckpoint('a', 0, '"resume here"');
    expect(store.getCheckpoints('a', [0])).toEqual(['"resume here"']);
    const check = new Database(path.join(dir, 'colony.db'), { readonly: true });
    cleanups.push(() => check.close());
    expect(check.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION);
    expect(SCHEMA_VERSION).toBe(7);
  });
});
