/**
 * The tail of a job with real workers: a worker that goes quiet holding tasks does not
 * hold up the job, because backup copies of its tasks run on the others.
 */
import { describe, expect, test } from 'vitest';
import {
  collectResults,
  fixtureModule,
  spawnWorker,
  startTestMaster,
  waitForResults,
} from '../helpers/master.js';

describe('the tail of a job', () => {
  test('a worker gone quiet holding tasks: backup copies finish the job, first result wins', async () => {
    // Neither the heartbeat nor the lease would free its tasks within the test: only
    // backup copies can finish the job.
    const master = await startTestMaster({ heartbeatMs: 600_000 });
    const quiet = spawnWorker(master.url, 1, ['--window', '4']);
    const module = await fixtureModule('square.mjs');
    const n = 200;
    const inputs = Array.from({ length: n }, (_, x) => ({ x, spinMs: 5 }));
    const { id } = await master.client.submit({
      name: 'tail',
      module,
      inputs,
      options: { timeoutMs: 600_000 },
    });
    await waitForResults(master.client, id, 5);
    quiet.child.kill('SIGSTOP');
    spawnWorker(master.url, 1);
    const results = await collectResults(master.client, id);
    expect(results.size).toBe(n);
    for (let x = 0; x < n; x++) {
      expect(results.get(x)).toMatchObject({ ok: true, output: x * x });
    }
    const job = await master.client.job(id);
    expect(job.state).toBe('completed');
    expect(job.backups?.issued).toBeGreaterThan(0);
    expect(job.backups?.issued).toBeLessThanOrEqual(n / 10);
    // The quiet worker answered nothing after it stopped: its tasks were won by copies.
    expect(job.backups?.won).toBeGreaterThan(0);
    quiet.child.kill('SIGCONT');
  });

  test("backups: false leaves the quiet worker's tasks to it", async () => {
    const master = await startTestMaster({ heartbeatMs: 600_000 });
    const quiet = spawnWorker(master.url, 1, ['--window', '4']);
    const module = await fixtureModule('square.mjs');
    const n = 100;
    const inputs = Array.from({ length: n }, (_, x) => ({ x, spinMs: 5 }));
    const { id } = await master.client.submit({
      name: 'no backups',
      module,
      inputs,
      options: { timeoutMs: 600_000, backups: false },
    });
    await waitForResults(master.client, id, 5);
    quiet.child.kill('SIGSTOP');
    spawnWorker(master.url, 1);
    // Everything but what the quiet worker holds finishes; then nothing moves.
    await waitForResults(master.client, id, n - 4);
    const stalled = await master.client.job(id);
    expect(stalled.state).toBe('running');
    expect(stalled.backups).toEqual({ issued: 0, won: 0 });
    // Once it resumes, it finishes its own tasks.
    quiet.child.kill('SIGCONT');
    const results = await collectResults(master.client, id);
    expect(results.size).toBe(n);
  });
});
