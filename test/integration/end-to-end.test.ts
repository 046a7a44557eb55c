/**
 * The whole path with real parts: a master on port 0, `colony worker` child processes,
 * the client over HTTP, results streamed back.
 */
import { describe, expect, test } from 'vitest';
import {
  collectResults,
  fixtureModule,
  spawnColony,
  spawnWorker,
  startTestMaster,
  tempDir,
  waitForOutput,
  waitForResults,
} from '../helpers/master.js';

describe('end to end with Node workers', () => {
  test('two workers, 1,000 tasks: every result present once and correct', async () => {
    const master = await startTestMaster();
    const spawnLogged = () =>
      spawnColony(['worker', master.url, '--threads', '1'], {
        COLONY_LOG_LEVEL: 'info',
      });
    const pair = [spawnLogged(), spawnLogged()];
    // Both connected before the job exists, so that both take part in it.
    await Promise.all(
      pair.map((worker) =>
        waitForOutput(
          worker,
          (text) => text.includes('"worker connected"'),
          'stderr',
        ),
      ),
    );
    const module = await fixtureModule('square.mjs');
    // 1 ms a task: the job outlasts one worker's first grant, so both take part.
    const inputs = Array.from({ length: 1_000 }, (_, x) => ({ x, spinMs: 1 }));
    const { id } = await master.client.submit({
      name: 'squares',
      module,
      inputs,
    });
    const results = await collectResults(master.client, id);
    expect(results.size).toBe(1_000);
    for (let x = 0; x < 1_000; x++) {
      expect(results.get(x)).toEqual({ index: x, ok: true, output: x * x });
    }
    const job = await master.client.job(id);
    expect(job.state).toBe('completed');
    expect(job.counts).toEqual({
      total: 1_000,
      queued: 0,
      running: 0,
      done: 1_000,
      failed: 0,
    });
    const workers = await master.client.workers();
    expect(workers.map((w) => w.kind)).toEqual(['node', 'node']);
    // Both workers took part.
    expect(workers.every((w) => w.done > 0)).toBe(true);
  });

  test('kill -9 of a worker mid-job: the job completes, every result exactly once', async () => {
    const master = await startTestMaster();
    const doomed = spawnWorker(master.url, 2);
    spawnWorker(master.url, 1);
    const module = await fixtureModule('square.mjs');
    const inputs = Array.from({ length: 600 }, (_, x) => ({ x, spinMs: 5 }));
    const { id } = await master.client.submit({
      name: 'squares with a crash',
      module,
      inputs,
    });
    await waitForResults(master.client, id, 100);
    doomed.child.kill('SIGKILL');
    await doomed.exited;
    const results = await collectResults(master.client, id);
    expect(results.size).toBe(600);
    for (let x = 0; x < 600; x++)
      expect(results.get(x)).toEqual({ index: x, ok: true, output: x * x });
    const job = await master.client.job(id);
    expect(job.state).toBe('completed');
    expect(job.counts.done).toBe(600);
  });

  test('a task that throws is failed with its message after maxAttempts; the rest are done', async () => {
    const master = await startTestMaster();
    spawnWorker(master.url, 1);
    spawnWorker(master.url, 1);
    const module = await fixtureModule('square.mjs');
    const throwFor = [3, 50, 99];
    const inputs = Array.from({ length: 100 }, (_, x) => ({ x, throwFor }));
    const { id } = await master.client.submit({
      name: 'some throw',
      module,
      inputs,
      options: { maxAttempts: 3 },
    });
    const results = await collectResults(master.client, id);
    expect(results.size).toBe(100);
    for (let x = 0; x < 100; x++) {
      if (throwFor.includes(x)) {
        expect(results.get(x)).toEqual({
          index: x,
          ok: false,
          error: `refusing ${x}`,
          code: 'E_TASK_FAILED',
        });
      } else {
        expect(results.get(x)).toEqual({ index: x, ok: true, output: x * x });
      }
    }
    const job = await master.client.job(id);
    expect(job.state).toBe('completed');
    expect(job.counts).toMatchObject({ done: 97, failed: 3 });
    expect(job.errors.length).toBeGreaterThan(0);
    for (const sample of job.errors)
      expect(sample.error).toMatch(/^refusing (3|50|99)$/);
  });

  test('colony demo: master, demo job and a local worker; the job completes', async () => {
    const demo = spawnColony([
      'demo',
      '--port',
      '0',
      '--data',
      tempDir(),
      '--once',
      '--threads',
      '2',
    ]);
    const out = await waitForOutput(demo, (text) =>
      text.includes('demo complete'),
    );
    expect(out).toMatch(/dashboard: http:\/\/127\.0\.0\.1:\d+\//);
    expect(await demo.exited).toBe(0);
  });
});
