// A group commit that fails must not lose its results (SPEC §4: every result exactly
// once). The scheduler counts a result done as it arrives and its worker never sends it
// again, so a batch dropped with its failed transaction was gone for good: the job
// completed with fewer results than tasks. Here a real master's commits fail (a trigger,
// added to its real SQLite file from outside, aborts every insert of a result) until the
// job has ended in the scheduler; once the fault is gone every result must be readable.
import path from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, test } from 'vitest';
import { ColonyClient, type ResultLine } from '../../server/client/index.js';
import type { VolunteerSummary } from '../../shared/volunteers.js';
import {
  fixtureModule,
  spawnMaster,
  spawnWorker,
  tempDir,
  waitForOutput,
} from '../helpers/master.js';

describe('a failed group commit', () => {
  test('keeps its results: they are written once the store works again', async () => {
    const dataDir = tempDir();
    const master = await spawnMaster(dataDir, ['--log-level', 'info']);
    const db = new Database(path.join(dataDir, 'colony.db'), {
      fileMustExist: true,
    });
    try {
      db.pragma('busy_timeout = 5000');
      db.exec(`CREATE TRIGGER fail_results BEFORE INSERT ON results
               BEGIN SELECT RAISE(ABORT, 'injected fault'); END`);
      const client = new ColonyClient({
        url: master.url,
        token: 'test-token-0123456789',
      });
      const module = await fixtureModule('square.mjs');
      const n = 40;
      const inputs = Array.from({ length: n }, (_, x) => ({ x }));
      const { id } = await client.submit({ name: 'faulty', module, inputs });
      spawnWorker(master.url, 1);
      // Every task counted done by the scheduler (its log, before any commit), and at
      // least one commit of results failed meanwhile.
      await waitForOutput(
        master,
        (text) =>
          text.includes('"msg":"job finished"') &&
          text.includes('store commit failed'),
        'stderr',
      );
      expect(db.prepare('SELECT count(*) FROM results').pluck().get()).toBe(0);
      db.exec('DROP TRIGGER fail_results');

      // Shown ended only once its end is durable; then its results are all there.
      const job = await client.job(id);
      expect(job.state).toBe('completed');
      expect(job.counts.done).toBe(n);
      const results = new Map<number, ResultLine>();
      for await (const line of client.results(id)) {
        expect(results.has(line.index)).toBe(false);
        results.set(line.index, line);
      }
      const wrong = inputs.filter(({ x }) => {
        const line = results.get(x);
        return !line?.ok || line.output !== x * x;
      });
      expect(wrong).toEqual([]);
      expect(results.size).toBe(n);
    } finally {
      db.close();
    }
  });
  test("keeps its volunteers' credit: it is written with the results once the store works again", async () => {
    const dataDir = tempDir();
    const master = await spawnMaster(dataDir, ['--log-level', 'info']);
    const db = new Database(path.join(dataDir, 'colony.db'), {
      fileMustExist: true,
    });
    try {
      db.pragma('busy_timeout = 5000');
      // The volunteers' upsert runs after the results' insert in the same transaction:
      // failing it rolls back a commit whose credit was already taken from the queue.
      db.exec(`CREATE TRIGGER fail_new_volunteers BEFORE INSERT ON volunteers
               BEGIN SELECT RAISE(ABORT, 'injected fault'); END;
               CREATE TRIGGER fail_volunteers BEFORE UPDATE ON volunteers
               BEGIN SELECT RAISE(ABORT, 'injected fault'); END`);
      const client = new ColonyClient({
        url: master.url,
        token: 'test-token-0123456789',
      });
      const module = await fixtureModule('square.mjs');
      const n = 40;
      const inputs = Array.from({ length: n }, (_, x) => ({ x }));
      const { id } = await client.submit({ name: 'faulty', module, inputs });
      const identity = path.join(tempDir(), 'identity.json');
      spawnWorker(master.url, 1, ['--identity', identity, '--name', 'carol']);
      await waitForOutput(
        master,
        (text) =>
          text.includes('"msg":"job finished"') &&
          text.includes('store commit failed'),
        'stderr',
      );
      expect(db.prepare('SELECT count(*) FROM volunteers').pluck().get()).toBe(
        0,
      );
      db.exec('DROP TRIGGER fail_new_volunteers; DROP TRIGGER fail_volunteers');

      // The job reads completed once the commit that ends it is written, and the
      // credit of its results is in that commit or an earlier one.
      const job = await client.job(id);
      expect(job.state).toBe('completed');
      const response = await fetch(`${master.url}/api/volunteers`);
      const volunteers = (await response.json()) as VolunteerSummary[];
      expect(volunteers.map((v) => [v.name, v.tasks])).toEqual([['carol', n]]);
      expect(db.prepare('SELECT tasks FROM volunteers').pluck().all()).toEqual([
        n,
      ]);
    } finally {
      db.close();
    }
  });
});
