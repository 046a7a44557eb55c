// A group commit that fails must not lose its results (SPEC §4: every result exactly
// once). The scheduler counts a result done as it arrives and its worker never sends it
// again, so a batch dropped with its failed transaction was gone for good: the job
// completed with fewer results than tasks. Here a real master's commits fail (a trigger,
// added to its real SQLite file from outside, aborts every insert of a result) until the
// job has ended in the scheduler; once the fault is gone every result must be readable.
import path from 'node:path';
import { describe, expect, test } from 'vitest';
import type { ResultLine } from '../../server/client/index.js';
import type { VolunteerSummary } from '../../shared/volunteers.js';
import {
  jobEndedThroughFailedCommits,
  masterWithFault,
} from '../helpers/commit-faults.js';
import { spawnWorker, tempDir } from '../helpers/master.js';

describe('a failed group commit', () => {
  test('keeps its results: they are written once the store works again', async () => {
    const { master, db, client, id, n } = await masterWithFault(
      `CREATE TRIGGER fail_results BEFORE INSERT ON results
       BEGIN SELECT RAISE(ABORT, 'injected fault'); END`,
    );
    spawnWorker(master.url, 1);
    await jobEndedThroughFailedCommits(master);
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
    const wrong = Array.from({ length: n }, (_, x) => x).filter((x) => {
      const line = results.get(x);
      return !line?.ok || line.output !== x * x;
    });
    expect(wrong).toEqual([]);
    expect(results.size).toBe(n);
  });

  test("keeps its volunteers' credit: it is written with the results once the store works again", async () => {
    // The volunteers' upsert runs after the results' insert in the same transaction:
    // failing it rolls back a commit whose credit was already taken from the queue.
    const { master, db, client, id, n } = await masterWithFault(
      `CREATE TRIGGER fail_new_volunteers BEFORE INSERT ON volunteers
       BEGIN SELECT RAISE(ABORT, 'injected fault'); END;
       CREATE TRIGGER fail_volunteers BEFORE UPDATE ON volunteers
       BEGIN SELECT RAISE(ABORT, 'injected fault'); END`,
    );
    const identity = path.join(tempDir(), 'identity.json');
    spawnWorker(master.url, 1, ['--identity', identity, '--name', 'carol']);
    await jobEndedThroughFailedCommits(master);
    expect(db.prepare('SELECT count(*) FROM volunteers').pluck().get()).toBe(0);
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
  });
});
