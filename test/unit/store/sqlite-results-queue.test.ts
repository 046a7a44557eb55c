// The results queue of the SQLite store: how many rows wait for the group commit (which
// spaces small commits further apart), across chunks, a hand-over and a requeue after a
// rolled-back transaction.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, expect, test } from 'vitest';
import { ErrorCode } from '../../../shared/errors.js';
import { SqliteResults } from '../../../server/master/store/sqlite-results.js';
import { openDatabase } from '../../../server/master/store/sqlite-schema.js';

const cleanups: (() => void)[] = [];

afterEach(() => {
  for (const cleanup of cleanups.splice(0).reverse()) cleanup();
});

function openResults(): SqliteResults {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'colony-results-'));
  cleanups.push(() => fs.rmSync(dir, { recursive: true, force: true }));
  const db = openDatabase(dir, 'normal');
  cleanups.push(() => db.close());
  return new SqliteResults(db);
}

function queue(results: SqliteResults, jid: number, from: number, to: number) {
  for (let index = from; index < to; index++)
    results.queue(
      jid,
      index,
      index % 3 === 0
        ? { ok: false, error: 'boom', code: ErrorCode.TaskFailed }
        : { ok: true, output: String(index) },
    );
}

test('counts queued rows within a chunk and across several', () => {
  const results = openResults();
  expect(results.queuedRows()).toBe(0);
  queue(results, 1, 0, 5);
  expect(results.queuedRows()).toBe(5);
  // Past one chunk (64 rows) and into a third.
  queue(results, 1, 5, 150);
  expect(results.queuedRows()).toBe(150);
});

test('a hand-over empties the count; a requeue brings its rows back ahead of new ones', () => {
  const results = openResults();
  queue(results, 1, 0, 70);
  const taken = results.takeQueued();
  expect(results.queuedRows()).toBe(0);
  expect(results.hasQueued()).toBe(false);
  queue(results, 1, 70, 73);
  results.requeue(taken);
  expect(results.queuedRows()).toBe(73);
  // Written all at once, in the order queued: every row is there.
  results.insert(results.takeQueued());
  expect(results.queuedRows()).toBe(0);
  const read = results.read(1, 0, 1_000);
  expect(read.map((r) => r.index)).toEqual(
    Array.from({ length: 73 }, (_, i) => i),
  );
  expect(read[1]?.outcome).toEqual({ ok: true, output: '1' });
});
