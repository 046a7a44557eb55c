/**
 * `colony backup` while the master runs a job: the copy holds every result committed
 * before the backup began, passes integrity_check, is private (0600), and a master
 * started on it serves the job.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, test } from 'vitest';
import { ColonyClient } from '../../server/client/index.js';
import { backupStore } from '../../server/commands/backup.js';
import type { ResultLine } from '../../shared/job.js';
import {
  fixtureModule,
  spawnColony,
  spawnMaster,
  spawnWorker,
  startTestMaster,
  tempDir,
  waitForResults,
} from '../helpers/master.js';

// 2,000 tasks of 25 ms on 2 threads: at least 25 s of work, so the job is mid-way
// through the backup by a wide margin.
const TASKS = 2_000;

/**
 * A process that commits without pause to `<dir>/colony.db`: each transaction adds one
 * row to `a` and one to `b`, so any single commit has as many rows in both. Prints
 * "go" once the file is ~8 MB, then writes until killed.
 */
const WRITER = `
const [modulePath, dir] = process.argv.slice(-2);
const Database = require(modulePath);
const db = new Database(dir + '/colony.db');
db.pragma('journal_mode = WAL');
db.exec('CREATE TABLE a (n INTEGER, pad BLOB); CREATE TABLE b (n INTEGER, pad BLOB)');
const pad = Buffer.alloc(2000);
const insA = db.prepare('INSERT INTO a VALUES (?, ?)');
const insB = db.prepare('INSERT INTO b VALUES (?, ?)');
const pair = db.transaction((n) => { insA.run(n, pad); insB.run(n, pad); });
let n = 0;
while (n < 2000) pair(n++);
process.stdout.write('go\\n');
const more = () => { for (let k = 0; k < 20; k++) pair(n++); setImmediate(more); };
more();
`;

async function committed(
  client: ColonyClient,
  id: string,
): Promise<Map<number, ResultLine>> {
  const lines = new Map<number, ResultLine>();
  for await (const line of client.results(id)) lines.set(line.index, line);
  return lines;
}

describe('colony backup', () => {
  test('mid-job: a master on the copy lists the job with every result committed before the backup', async () => {
    const dir = tempDir();
    const data = path.join(dir, 'data');
    const master = await spawnMaster(data);
    const client = new ColonyClient({
      url: master.url,
      token: 'test-token-0123456789',
    });
    const { id } = await client.submit({
      name: 'long',
      module: await fixtureModule('square.mjs'),
      inputs: Array.from({ length: TASKS }, (_, x) => ({ x, spinMs: 25 })),
    });
    spawnWorker(master.url, 2);
    await waitForResults(client, id, 40);
    const before = await committed(client, id);
    expect(before.size).toBeGreaterThanOrEqual(40);

    const copyDir = path.join(dir, 'copy');
    mkdirSync(copyDir);
    const file = path.join(copyDir, 'colony.db');
    const backup = spawnColony(['backup', file, '--data', data]);
    expect(await backup.exited, backup.stderr()).toBe(0);
    expect(backup.stdout()).toMatch(/integrity ok/);
    // The job was still running while the copy was taken.
    const live = await client.job(id);
    expect(live.state).toBe('running');
    expect(live.counts.done).toBeLessThan(TASKS);

    expect(statSync(file).mode & 0o777).toBe(0o600);
    const db = new Database(file, { fileMustExist: true });
    try {
      expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
    } finally {
      db.close();
    }

    const restored = await startTestMaster({ dataDir: copyDir });
    const jobs = await restored.client.jobs();
    expect(jobs.map((job) => job.id)).toContain(id);
    const copied = await committed(restored.client, id);
    for (const [index, line] of before) expect(copied.get(index)).toEqual(line);
    for (const line of copied.values())
      expect(line).toEqual({
        index: line.index,
        ok: true,
        output: line.index ** 2,
      });
    expect((await restored.client.job(id)).counts.done).toBe(copied.size);
  });

  test('refuses to overwrite a file, and says where the store was looked for', async () => {
    const dir = tempDir();
    const existing = path.join(dir, 'existing.db');
    writeFileSync(existing, 'keep me');
    const master = await startTestMaster({ dataDir: path.join(dir, 'data') });
    void master;
    const overwrite = spawnColony([
      'backup',
      existing,
      '--data',
      path.join(dir, 'data'),
    ]);
    expect(await overwrite.exited).toBe(2);
    expect(overwrite.stderr()).toMatch(
      /existing\.db exists; choose a new file/,
    );

    const nowhere = spawnColony([
      'backup',
      path.join(dir, 'new.db'),
      '--data',
      path.join(dir, 'nothing-here'),
    ]);
    expect(await nowhere.exited).toBe(2);
    expect(nowhere.stderr()).toMatch(/no SQLite store at .*nothing-here/);

    const missing = spawnColony(['backup']);
    expect(await missing.exited).toBe(2);
    expect(missing.stderr()).toMatch(/backup needs a file/);
  });

  test('a store committed to without pause: the backup ends, and the copy is one commit', async () => {
    const dir = tempDir();
    const betterSqlite = createRequire(import.meta.url).resolve(
      'better-sqlite3',
    );
    const writer = spawn(
      process.execPath,
      ['-e', WRITER, '--', betterSqlite, dir],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    const ended = once(writer, 'exit');
    try {
      await new Promise<void>((resolve, reject) => {
        writer.stdout.on('data', (chunk: Buffer) => {
          if (chunk.toString().includes('go')) resolve();
        });
        writer.once('exit', (code) =>
          reject(new Error(`the writer exited (${code}) before it was ready`)),
        );
      });
      // Copied in small steps, this would restart at every commit of the writer.
      const result = await backupStore(dir, path.join(dir, 'copy.db'));
      expect(result.pages).toBeGreaterThan(1_000);
    } finally {
      writer.kill('SIGKILL');
      await ended;
    }
    const copy = new Database(path.join(dir, 'copy.db'), { readonly: true });
    try {
      const count = (table: string) =>
        copy.prepare(`SELECT count(*) FROM ${table}`).pluck().get() as number;
      expect(count('a')).toBeGreaterThanOrEqual(2_000);
      expect(count('b')).toBe(count('a'));
    } finally {
      copy.close();
    }
  });
});
