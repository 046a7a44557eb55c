// The SQLite store's WAL is checkpointed by a thread of its own, never inside a commit:
// the store's connection leaves the WAL alone however large it grows, the thread copies
// it into the database file, the writer then starts it over, and the thread's timer does
// so unasked while commits keep coming.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, test } from 'vitest';
import type { JobSpec } from '../../../server/master/scheduler/types.js';
import {
  SqliteStore,
  type SqliteStoreOptions,
} from '../../../server/master/store/sqlite-store.js';
import type { CheckpointResult } from '../../../server/master/store/sqlite-wal-checkpointer.js';
import { jobId } from '../../helpers/ids.js';

const cleanups: (() => void)[] = [];

afterEach(() => {
  for (const cleanup of cleanups.splice(0).reverse()) cleanup();
});

function freshDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'colony-wal-'));
  cleanups.push(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

const JOB = jobId('a');
const TASKS = 400;
/** A 16 KiB output: each result is a few pages of the WAL. */
const OUTPUT = JSON.stringify('x'.repeat(16 * 1024));

function openStore(
  dir: string,
  checkpoints: NonNullable<SqliteStoreOptions['checkpoints']>,
): SqliteStore {
  const store = new SqliteStore({ dir, checkpoints });
  cleanups.push(() => store.close());
  const spec: JobSpec = {
    id: JOB,
    name: 'wal',
    moduleHash: 'h1',
    options: { timeoutMs: 60_000, maxAttempts: 5, replicas: 1, priority: 0 },
    taskCount: TASKS,
    sealed: true,
    createdAt: 1_000,
  };
  store.createJob(
    spec,
    Array.from({ length: TASKS }, (_, i) => JSON.stringify(i)),
  );
  return store;
}

/** Commits the results of tasks `from`..`to - 1`, one commit each. */
async function commitResults(store: SqliteStore, from: number, to: number) {
  for (let index = from; index < to; index++) {
    store.recordResult(JOB, index, { ok: true, output: OUTPUT });
    await store.commit();
  }
}

const size = (file: string) => fs.statSync(file).size;

// Every test awaits the checkpointer thread, which runs at nice 10: on a loaded machine
// it gets a sliver of a core, and seconds go by where a quiet one takes milliseconds.
describe('WAL checkpoints off the commit', { timeout: 60_000 }, () => {
  test('commits never checkpoint; the thread copies the WAL, which then starts over', async () => {
    const dir = freshDir();
    // No timer in the way: checkpoints only when asked.
    const store = openStore(dir, {
      everyMs: 3_600_000,
      restartPages: 1_000_000,
    });
    const db = path.join(dir, 'colony.db');
    const wal = `${db}-wal`;
    const dbBefore = size(db);
    await commitResults(store, 0, 200);
    // 200 results of 16 KiB: past SQLite's automatic checkpoint (1,000 pages), and
    // none of it in the database file yet.
    expect(size(wal)).toBeGreaterThan(1_000 * 4096);
    expect(size(db)).toBe(dbBefore);

    const first = await store.checkpointNow();
    expect(first.busy).toBe(0);
    expect(first.log).toBeGreaterThan(1_000);
    expect(first.checkpointed).toBe(first.log);
    expect(size(db)).toBeGreaterThan(dbBefore + 200 * 16 * 1024);

    // The next commit writes at the WAL's start again.
    await commitResults(store, 200, 201);
    const second = await store.checkpointNow();
    expect(second.log).toBeLessThan(20);
    expect(second.checkpointed).toBe(second.log);
    const results = store.readResults(JOB, 0, TASKS);
    expect(results).toHaveLength(201);
  });

  test('the WAL stays bounded while commits keep coming', async () => {
    const dir = freshDir();
    const store = openStore(dir, {
      everyMs: 3_600_000,
      restartPages: 50,
    });
    for (let from = 0; from < TASKS; from += 20) {
      await commitResults(store, from, from + 20);
      const result = await store.checkpointNow();
      expect(result.checkpointed).toBe(result.log);
    }
    // 400 results of 16 KiB went through a WAL never much over 20 of them.
    const wal = size(path.join(dir, 'colony.db-wal'));
    expect(wal).toBeLessThan(60 * 16 * 1024);
    expect(store.readResults(JOB, 0, TASKS)).toHaveLength(TASKS);
  });

  test('the thread checkpoints on its own timer', async () => {
    const dir = freshDir();
    let seen: (result: CheckpointResult) => void = () => undefined;
    const copied = new Promise<CheckpointResult>((resolve) => {
      seen = (result) => {
        if (result.checkpointed > 0) resolve(result);
      };
    });
    const store = openStore(dir, { everyMs: 5, onCheckpoint: seen });
    await commitResults(store, 0, 10);
    const result = await copied;
    expect(result.busy).toBe(0);
    expect(result.checkpointed).toBeGreaterThan(0);
  });

  test('closing removes the WAL (the store closes last and checkpoints it all)', async () => {
    const dir = freshDir();
    const store = openStore(dir, { everyMs: 3_600_000 });
    await commitResults(store, 0, 30);
    // The thread is up (it answered) when the store closes.
    await store.checkpointNow();
    await commitResults(store, 30, 40);
    store.close();
    expect(fs.existsSync(path.join(dir, 'colony.db-wal'))).toBe(false);
    const reopened = new SqliteStore({ dir });
    cleanups.push(() => reopened.close());
    expect(reopened.readResults(JOB, 0, TASKS)).toHaveLength(40);
  });

  test('a store closed while its thread is still starting (never to open, or waited for while opening): the WAL is removed every time', async () => {
    for (let round = 0; round < 8; round++) {
      const dir = freshDir();
      const store = openStore(dir, { everyMs: 3_600_000 });
      await commitResults(store, 0, 5);
      // No checkpoint asked: the thread may not have opened its connection yet.
      store.close();
      expect(fs.existsSync(path.join(dir, 'colony.db-wal'))).toBe(false);
    }
  });
});
