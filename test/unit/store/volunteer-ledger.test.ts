/**
 * The volunteers' totals in both stores: credits add up per volunteer, writes become
 * visible at commit, pages sort and page, a volunteer's rank; and a schema 4 file gains
 * the table with its jobs kept.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, test } from 'vitest';
import type { Credit } from '../../../server/master/scheduler/credit.js';
import { MemoryStore } from '../../../server/master/store/memory-store.js';
import { LedgerQueue } from '../../../server/master/store/volunteer-ledger.js';
import { SCHEMA_VERSION } from '../../../server/master/store/sqlite-schema.js';
import { SqliteStore } from '../../../server/master/store/sqlite-store.js';
import type { Store } from '../../../server/master/store/store.js';
import { VolunteerQuery } from '../../../shared/volunteers.js';
import { unbranded } from '../../helpers/ids.js';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0))
    fs.rmSync(dir, { recursive: true, force: true });
});

function tempDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'colony-ledger-'));
  dirs.push(dir);
  return dir;
}

const creditOf = (volunteer: string, busyMs: number, tasks = 1): Credit => ({
  volunteer,
  kind: 'node',
  name: `n-${volunteer}`,
  tasks,
  busyMs,
});

const query = (q: Partial<VolunteerQuery> = {}) => VolunteerQuery.parse(q);

/** Three volunteers: a (3 tasks, 30 ms, seen at 10), b (1 task, 500 ms, seen at 40), c (none, seen at 50). */
async function fill(store: Store): Promise<void> {
  const { volunteers } = store;
  volunteers.seen({ id: 'a', name: 'alice', kind: 'browser' }, 1);
  volunteers.seen({ id: 'b', name: 'bob', kind: 'node' }, 2);
  // A batch's merged credit (2 tasks) adds up like its tasks one by one.
  volunteers.credit([creditOf('a', 20, 2)], 5);
  volunteers.credit([creditOf('b', 500), creditOf('a', 10)], 10);
  volunteers.seen({ id: 'b', name: 'bob', kind: 'node' }, 40);
  volunteers.seen({ id: 'c', name: 'carol', kind: 'browser' }, 50);
  // Nothing is visible before the commit, as with results.
  expect(volunteers.page(query()).total).toBe(0);
  await store.commit();
}

describe.each([
  ['memory', () => new MemoryStore() as Store],
  ['sqlite', () => new SqliteStore({ dir: tempDir() }) as Store],
])('volunteers in the %s store', (_kind, open) => {
  test('credits add up per volunteer; first and last seen are kept', async () => {
    const store = open();
    await fill(store);
    const { volunteers, total } = store.volunteers.page(query());
    expect(total).toBe(3);
    expect(volunteers[0]).toEqual({
      id: 'a',
      name: 'n-a',
      kind: 'node',
      tasks: 3,
      busyMs: 30,
      firstSeen: 1,
      lastSeen: 10,
    });
    expect(volunteers.map((v) => [v.id, v.firstSeen, v.lastSeen])).toEqual([
      ['a', 1, 10],
      ['b', 2, 40],
      ['c', 50, 50],
    ]);
    store.close();
  });

  test('pages sort by tasks, cpu or last seen, and page by offset', async () => {
    const store = open();
    await fill(store);
    const ids = (q: Partial<VolunteerQuery>) =>
      store.volunteers.page(query(q)).volunteers.map((v) => v.id);
    expect(ids({ sort: 'tasks' })).toEqual(['a', 'b', 'c']);
    expect(ids({ sort: 'cpu' })).toEqual(['b', 'a', 'c']);
    expect(ids({ sort: 'lastSeen' })).toEqual(['c', 'b', 'a']);
    expect(ids({ sort: 'tasks', limit: 2 })).toEqual(['a', 'b']);
    expect(ids({ sort: 'tasks', limit: 2, offset: 2 })).toEqual(['c']);
    expect(ids({ offset: 3 })).toEqual([]);
    store.close();
  });

  test('a standing ranks by tasks; an unknown volunteer ranks last', async () => {
    const store = open();
    await fill(store);
    expect(store.volunteers.standing('a')).toEqual({
      tasks: 3,
      busyMs: 30,
      rank: 1,
      volunteers: 3,
    });
    expect(store.volunteers.standing('c')).toMatchObject({ rank: 3 });
    expect(store.volunteers.standing('nobody')).toEqual({
      tasks: 0,
      busyMs: 0,
      rank: 4,
      volunteers: 4,
    });
    store.close();
  });
});

describe('volunteers in the SQLite file', () => {
  test('survive a reopen', async () => {
    const dir = tempDir();
    const store = new SqliteStore({ dir });
    await fill(store);
    store.close();
    const again = new SqliteStore({ dir });
    expect(again.volunteers.standing('b')).toEqual({
      tasks: 1,
      busyMs: 500,
      rank: 2,
      volunteers: 3,
    });
    again.close();
  });

  test('a schema 4 file gains the volunteers table and keeps its jobs', async () => {
    const dir = tempDir();
    const store = unbranded(new SqliteStore({ dir }));
    store.putModule('a'.repeat(64), 'export default (x) => x;');
    store.createJob(
      {
        id: '1',
        name: 'old',
        moduleHash: 'a'.repeat(64),
        options: { timeoutMs: 1000, maxAttempts: 1, replicas: 1, priority: 0 },
        taskCount: 1,
        sealed: true,
        createdAt: 0,
      },
      ['1'],
    );
    store.recordResult('1', 0, { ok: true, output: '2' });
    await store.commit();
    store.close();
    // Back to schema 4: no volunteers table.
    const old = new Database(path.join(dir, 'colony.db'));
    old.exec('DROP TABLE volunteers');
    old.pragma('user_version = 4');
    old.close();

    const migrated = unbranded(new SqliteStore({ dir }));
    expect(migrated.readResults('1', 0, 10)).toHaveLength(1);
    expect(migrated.volunteers.page(query()).total).toBe(0);
    migrated.volunteers.credit([creditOf('v', 3)], 7);
    await migrated.commit();
    expect(migrated.volunteers.standing('v')).toMatchObject({ tasks: 1 });
    migrated.close();
    const file = new Database(path.join(dir, 'colony.db'), { readonly: true });
    expect(file.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION);
    expect(SCHEMA_VERSION).toBe(7);
    file.close();
  });

  test('a schema 6 file loses the indexes on the totals and keeps the totals', async () => {
    const dir = tempDir();
    const store = new SqliteStore({ dir });
    await fill(store);
    store.close();
    // Back to schema 6: the same table with an index on each total.
    const old = new Database(path.join(dir, 'colony.db'));
    old.exec(`
      CREATE INDEX volunteers_tasks ON volunteers (tasks);
      CREATE INDEX volunteers_busy ON volunteers (busy_ms);
      CREATE INDEX volunteers_seen ON volunteers (last_seen);
    `);
    old.pragma('user_version = 6');
    old.close();

    const migrated = new SqliteStore({ dir });
    expect(migrated.volunteers.standing('b')).toEqual({
      tasks: 1,
      busyMs: 500,
      rank: 2,
      volunteers: 3,
    });
    const ids = (sort: VolunteerQuery['sort']) =>
      migrated.volunteers.page(query({ sort })).volunteers.map((v) => v.id);
    expect(ids('cpu')).toEqual(['b', 'a', 'c']);
    expect(ids('lastSeen')).toEqual(['c', 'b', 'a']);
    // Credit goes on adding up on the migrated file, and survives another reopen.
    migrated.volunteers.credit([creditOf('c', 1, 5)], 60);
    await migrated.commit();
    expect(migrated.volunteers.standing('c')).toMatchObject({
      tasks: 5,
      rank: 1,
    });
    migrated.close();
    const file = new Database(path.join(dir, 'colony.db'), { readonly: true });
    expect(file.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION);
    const indexes = file
      .prepare<[], string>(
        "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'volunteers' AND sql IS NOT NULL",
      )
      .pluck()
      .all();
    expect(indexes).toEqual([]);
    file.close();
    const again = new SqliteStore({ dir });
    expect(again.volunteers.standing('c')).toMatchObject({ tasks: 5, rank: 1 });
    again.close();
  });
});

describe('the ledger queue', () => {
  test('changes put back after a rolled-back commit merge under those queued since', () => {
    const queue = new LedgerQueue();
    const credit = (tasks: number, name: string): Credit => ({
      volunteer: 'v1',
      name,
      kind: 'node',
      tasks,
      busyMs: tasks * 10,
    });
    queue.credit([credit(3, 'old')], 100);
    const taken = queue.take();
    queue.credit([credit(2, 'new')], 200);
    queue.restore(taken);
    queue.restore([{ ...taken[0]!, id: 'v2' }]);
    expect(queue.take()).toEqual([
      {
        id: 'v1',
        name: 'new',
        kind: 'node',
        tasks: 5,
        busyMs: 50,
        firstAt: 100,
        lastAt: 200,
      },
      { ...taken[0], id: 'v2' },
    ]);
    expect(queue.size).toBe(0);
  });
});
