/**
 * How the SQLite group commit paces itself while results stream in, one per round trip
 * (credit 1): each commit delays the round trip it lands in, so a stream of small
 * batches commits once per SMALL_COMMIT_ROWS rows (or after the long gap), a slower
 * stream is not taken for a pause, and the end of a stream is committed within a few ms.
 * A real SQLite database; the results queue and ledger are counters; fake clock.
 */
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, test, vi } from 'vitest';
import {
  MIN_COMMIT_GAP_MS,
  SMALL_COMMIT_GAP_MS,
  SMALL_COMMIT_ROWS,
  SqliteGroupCommit,
} from '../../../server/master/store/sqlite-commit.js';
import type { SqliteResults } from '../../../server/master/store/sqlite-results.js';
import type { SqliteVolunteers } from '../../../server/master/store/sqlite-volunteers.js';

/** Counts queued rows and the rows each commit wrote. */
function queue() {
  let queued = 0;
  const commits: number[] = [];
  const results = {
    add: () => void queued++,
    commits,
    queuedRows: () => queued,
    hasQueued: () => queued > 0,
    takeQueued: () => {
      const rows = queued;
      queued = 0;
      return [rows];
    },
    insert: ([rows]: number[]) => void commits.push(rows ?? 0),
    requeue: ([rows]: number[]) => void (queued += rows ?? 0),
  };
  return results;
}

const volunteers = {
  writeQueued: () => undefined,
  hasQueued: () => false,
  settle: () => undefined,
} as unknown as SqliteVolunteers;

let db: Database.Database;
beforeEach(() => {
  vi.useFakeTimers({
    toFake: ['setTimeout', 'clearTimeout', 'setImmediate', 'performance'],
  });
  db = new Database(':memory:');
  db.exec('CREATE TABLE jobs (jid INTEGER, state TEXT, finished_at INTEGER)');
});
afterEach(() => {
  db.close();
  vi.useRealTimers();
});

/** One result every `everyMs`, `count` times, each followed by commit() as the gateway does. */
async function stream(
  commits: SqliteGroupCommit,
  results: ReturnType<typeof queue>,
  count: number,
  everyMs: number,
): Promise<void> {
  for (let i = 0; i < count; i++) {
    results.add();
    void commits.commit();
    await vi.advanceTimersByTimeAsync(everyMs);
  }
}

describe('group commit pacing', () => {
  test('a fast stream of single results commits once per SMALL_COMMIT_ROWS rows', async () => {
    const results = queue();
    const commits = new SqliteGroupCommit(
      db,
      results as unknown as SqliteResults,
      volunteers,
    );
    // 3,000 round trips of 0.15 ms: a batch fills in 77 ms, within the long gap.
    await stream(commits, results, 3_000, 0.15);
    await vi.advanceTimersByTimeAsync(SMALL_COMMIT_GAP_MS);
    const written = results.commits.reduce((a, b) => a + b, 0);
    expect(written).toBe(3_000);
    // The first result commits at once (nothing before it); then one per full batch.
    expect(results.commits.length).toBeLessThanOrEqual(
      2 + Math.ceil(3_000 / SMALL_COMMIT_ROWS),
    );
    expect(
      results.commits.slice(1, -1).every((rows) => rows >= SMALL_COMMIT_ROWS),
    ).toBe(true);
  });

  test('a slow stream is not taken for a pause: it commits once per long gap', async () => {
    const results = queue();
    const commits = new SqliteGroupCommit(
      db,
      results as unknown as SqliteResults,
      volunteers,
    );
    // One result every 2 ms for 400 ms: never SMALL_COMMIT_ROWS within the long gap.
    await stream(commits, results, 200, 2);
    expect(results.commits.length).toBeLessThanOrEqual(
      2 + Math.ceil(400 / SMALL_COMMIT_GAP_MS),
    );
    await vi.advanceTimersByTimeAsync(SMALL_COMMIT_GAP_MS);
    expect(results.commits.reduce((a, b) => a + b, 0)).toBe(200);
  });

  test('the end of a stream is committed within a few ms, not at the long gap', async () => {
    const results = queue();
    const commits = new SqliteGroupCommit(
      db,
      results as unknown as SqliteResults,
      volunteers,
    );
    await stream(commits, results, 400, 0.05);
    const before = results.commits.length;
    const last = commits.commit();
    let settled = false;
    void last.then(() => (settled = true));
    // Far less than the long gap: a few short gaps.
    await vi.advanceTimersByTimeAsync(3 * MIN_COMMIT_GAP_MS);
    expect(settled).toBe(true);
    expect(results.commits.length).toBe(before + 1);
    expect(results.commits.reduce((a, b) => a + b, 0)).toBe(400);
  });

  test('a caller that waits for each commit keeps the short pace', async () => {
    const results = queue();
    const commits = new SqliteGroupCommit(
      db,
      results as unknown as SqliteResults,
      volunteers,
    );
    // After a stream at a slow pace, as a loaded machine's round trips.
    await stream(commits, results, 100, 2);
    await vi.advanceTimersByTimeAsync(SMALL_COMMIT_GAP_MS);
    const start = performance.now();
    for (let i = 0; i < 50; i++) {
      results.add();
      const done = commits.commit();
      while (!(await settledWithin(done, 1))) {
        expect(performance.now() - start).toBeLessThan(
          50 * 4 * MIN_COMMIT_GAP_MS,
        );
      }
    }
    // 50 commits a short gap apart, give or take a timer's millisecond or two each.
    expect(performance.now() - start).toBeLessThanOrEqual(
      50 * (MIN_COMMIT_GAP_MS + 2),
    );
  });
});

/** Advances the fake clock by `ms`; whether `promise` has settled by then. */
async function settledWithin(
  promise: Promise<void>,
  ms: number,
): Promise<boolean> {
  let settled = false;
  void promise.then(() => (settled = true));
  await vi.advanceTimersByTimeAsync(ms);
  return settled;
}
