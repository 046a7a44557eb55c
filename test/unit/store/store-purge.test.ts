// Purging jobs, on both stores (one contract), and what only SQLite has: space given
// back to the file system, a purge resumed after a restart, the auto_vacuum migration.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, test } from 'vitest';
import { ErrorCode } from '../../../shared/errors.js';
import type { JobSpec } from '../../../server/master/scheduler/types.js';
import { MemoryStore } from '../../../server/master/store/memory-store.js';
import { SqliteStore } from '../../../server/master/store/sqlite-store.js';
import { SCHEMA_VERSION } from '../../../server/master/store/sqlite-schema.js';
import type { Store } from '../../../server/master/store/store.js';

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const cleanup of cleanups.splice(0)) cleanup();
});

function tempDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'colony-purge-'));
  cleanups.push(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

function openSqlite(dir = tempDir()): SqliteStore {
  const store = new SqliteStore({ dir });
  cleanups.unshift(() => store.close());
  return store;
}

const factories: { name: string; open: () => Store }[] = [
  { name: 'MemoryStore', open: () => new MemoryStore() },
  { name: 'SqliteStore', open: () => openSqlite() },
];

function spec(id: string, taskCount: number, moduleHash = 'h1'): JobSpec {
  return {
    id,
    name: `job ${id}`,
    moduleHash,
    options: { timeoutMs: 60_000, maxAttempts: 5, replicas: 1, priority: 0 },
    taskCount,
    sealed: true,
    createdAt: 1_000,
  };
}

/** A job of `count` tasks, every one answered, ended and committed. */
async function endedJob(
  store: Store,
  id: string,
  count: number,
  moduleHash = 'h1',
): Promise<void> {
  store.putModule(moduleHash, `export default () => '${moduleHash}'`);
  const inputs = Array.from({ length: count }, (_, i) =>
    JSON.stringify({ i, pad: 'x'.repeat(100) }),
  );
  store.createJob(spec(id, count, moduleHash), inputs);
  for (let i = 0; i < count; i++) {
    store.recordResult(
      id,
      i,
      i % 7 === 0
        ? { ok: false, error: 'boom', code: ErrorCode.TaskFailed }
        : {
            ok: true,
            output: JSON.stringify({ out: i, pad: 'y'.repeat(100) }),
          },
    );
  }
  store.finishJob(id, 'completed', 2_000);
  await store.commit();
}

describe.each(factories)('$name: purgeJob', ({ open }) => {
  test('removes the job, its results and inputs; the other job stays whole', async () => {
    const store = open();
    await endedJob(store, '1', 50);
    await endedJob(store, '2', 30);
    await store.purgeJob('1');
    expect(store.readResults('1', 0, 1_000)).toEqual([]);
    expect(() => store.getInputs('1', [0])).toThrow(/no job/);
    expect(store.loadJobs().map((job) => job.spec.id)).toEqual(['2']);
    expect(store.readResults('2', 0, 1_000)).toHaveLength(30);
    expect(store.getInputs('2', [29])).toHaveLength(1);
  });

  test('keeps the module while another job uses it, then deletes it', async () => {
    const store = open();
    await endedJob(store, '1', 3, 'shared');
    await endedJob(store, '2', 3, 'shared');
    await endedJob(store, '3', 3, 'alone');
    await store.purgeJob('1');
    expect(store.getModule('shared')).toBeDefined();
    await store.purgeJob('3');
    expect(store.getModule('alone')).toBeUndefined();
    await store.purgeJob('2');
    expect(store.getModule('shared')).toBeUndefined();
  });

  test('a purged id is never given again: highestJobId remembers it', async () => {
    const store = open();
    await endedJob(store, '7', 1);
    await store.purgeJob('7');
    expect(store.highestJobId()).toBe(7);
  });

  test('purging an unknown job throws', async () => {
    const store = open();
    expect(() => store.purgeJob('nope')).toThrow(/no job/);
  });
});

describe('SqliteStore: space and restarts', () => {
  function dirBytes(dir: string): number {
    return fs
      .readdirSync(dir)
      .reduce((sum, name) => sum + fs.statSync(path.join(dir, name)).size, 0);
  }

  test('the data dir shrinks after a purge and its vacuum', async () => {
    const dir = tempDir();
    const store = openSqlite(dir);
    await endedJob(store, '1', 20_000);
    await endedJob(store, '2', 100);
    store.close();
    // Reopened: the WAL is checkpointed into the file, so the size is the data's.
    const reopened = openSqlite(dir);
    const before = dirBytes(dir);
    await reopened.purgeJob('1');
    const after = dirBytes(dir);
    expect(before).toBeGreaterThan(4_000_000);
    expect(after).toBeLessThan(before / 4);
    expect(reopened.readResults('2', 0, 1_000)).toHaveLength(100);
  });

  test('a purge cut short by close() finishes at the next start', async () => {
    const dir = tempDir();
    const store = openSqlite(dir);
    await endedJob(store, '1', 20_000);
    await endedJob(store, '2', 10);
    const purge = store.purgeJob('1');
    store.close();
    await purge;
    const file = new Database(path.join(dir, 'colony.db'), { readonly: true });
    const count = (jid: number) =>
      file
        .prepare('SELECT count(*) FROM results WHERE jid = ?')
        .pluck()
        .get(jid);
    // Closed before its first step: the rows are still there, the job marked.
    expect(count(1)).toBe(20_000);
    file.close();

    const reopened = openSqlite(dir);
    expect(reopened.loadJobs().map((job) => job.spec.id)).toEqual(['2']);
    expect(reopened.highestJobId()).toBe(2);
    // The resumed purge runs in steps; a later purge waits for it.
    await endedJob(reopened, '3', 1);
    await reopened.purgeJob('3');
    reopened.close();
    const again = new Database(path.join(dir, 'colony.db'), { readonly: true });
    const left = again.prepare('SELECT count(*) FROM results').pluck().get();
    again.close();
    expect(left).toBe(10);
  });

  test('a file made before schema 4 is switched to incremental auto_vacuum', async () => {
    const dir = tempDir();
    const store = openSqlite(dir);
    await endedJob(store, '1', 10);
    store.close();
    // Back to how older versions made their files: auto_vacuum NONE, schema 3.
    const old = new Database(path.join(dir, 'colony.db'));
    old.pragma('auto_vacuum = NONE');
    old.exec('VACUUM');
    old.pragma('user_version = 3');
    expect(old.pragma('auto_vacuum', { simple: true })).toBe(0);
    old.close();

    const reopened = openSqlite(dir);
    expect(reopened.readResults('1', 0, 100)).toHaveLength(10);
    reopened.close();
    const file = new Database(path.join(dir, 'colony.db'), { readonly: true });
    expect(file.pragma('auto_vacuum', { simple: true })).toBe(2);
    expect(file.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION);
    file.close();
  });
});
