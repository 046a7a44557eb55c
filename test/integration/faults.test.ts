/**
 * Fault injection with real processes (SPEC §4): workers and the master killed, frozen
 * and stopped mid-job. Every test checks every result: 0 lost, 0 twice, 0 wrong.
 */
import { describe, expect, test } from 'vitest';
import { ColonyClient } from '../../server/client/index.js';
import type { ResultLine } from '../../shared/job.js';
import {
  collectResults,
  fixtureModule,
  spawnMaster,
  spawnWorker,
  startTestMaster,
  freePort,
  tempDir,
  type ChildHandle,
} from '../helpers/master.js';

function expectSquares(results: Map<number, ResultLine>, n: number): void {
  expect(results.size).toBe(n);
  const wrong: number[] = [];
  for (let x = 0; x < n; x++) {
    const line = results.get(x);
    if (!line?.ok || line.output !== x * x) wrong.push(x);
  }
  expect(wrong).toEqual([]);
}

/** Reads committed results as they come, until the stream ends or breaks. */
async function readUntilBroken(
  client: ColonyClient,
  jobId: string,
  seen: Map<number, ResultLine>,
  stopAt: number,
): Promise<void> {
  try {
    for await (const line of client.results(jobId, { follow: true })) {
      const before = seen.get(line.index);
      if (before) expect(line).toEqual(before);
      seen.set(line.index, line);
      if (seen.size >= stopAt) return;
    }
  } catch {
    // the master went away mid-stream: what was read is what was acknowledged
  }
}

describe('faults', () => {
  test('F1 kill -9 storm: 4 workers, one killed about every second and restarted, 5,000 tasks', async () => {
    const master = await startTestMaster();
    const workers: ChildHandle[] = Array.from({ length: 4 }, () =>
      spawnWorker(master.url, 1),
    );
    const module = await fixtureModule('square.mjs');
    const n = 5_000;
    const inputs = Array.from({ length: n }, (_, x) => ({ x, spinMs: 1 }));
    const { id } = await master.client.submit({
      name: 'storm',
      module,
      inputs,
    });
    const done = collectResults(master.client, id);
    let kills = 0;
    let finished = false;
    // Not `finally`: its promise would reject unhandled if the stream broke (it is
    // awaited below, where a failure is reported).
    const end = () => (finished = true);
    void done.then(end, end);
    // Each kill waits for the job to have moved since the last one: on a loaded machine a
    // restarted sandboxed worker can take longer to start than the storm's pace, and
    // killing faster than anything finishes would only prove the machine slow.
    let doneBefore = -1;
    const progressed = async (): Promise<void> => {
      for (;;) {
        const { counts } = await master.client.job(id);
        if (finished || counts.done > doneBefore) {
          doneBefore = counts.done;
          return;
        }
        await new Promise((resolve) => setTimeout(resolve, 200)); // polling the job's counts
      }
    };
    while (!finished) {
      await new Promise((resolve) => setTimeout(resolve, 1_000)); // the storm's pace, not a wait for a result
      await progressed();
      if (finished) break;
      const victim = kills % workers.length;
      workers[victim]?.child.kill('SIGKILL');
      await workers[victim]?.exited;
      workers[victim] = spawnWorker(master.url, 1);
      kills++;
    }
    expectSquares(await done, n);
    expect(kills).toBeGreaterThanOrEqual(2);
    const job = await master.client.job(id);
    expect(job.counts).toEqual({
      total: n,
      queued: 0,
      running: 0,
      done: n,
      failed: 0,
    });
  }, 180_000); // every restart starts a sandboxed worker: slow on a loaded machine

  test('F2 frozen worker: its leases expire and are redone; its late results are never recorded twice', async () => {
    // A long heartbeat keeps the frozen socket open: only lease expiry can save the job.
    const master = await startTestMaster({
      heartbeatMs: 60_000,
      leaseGraceMs: 0,
    });
    const frozen = spawnWorker(master.url, 1, ['--window', '20']);
    const module = await fixtureModule('square.mjs');
    const n = 200;
    const inputs = Array.from({ length: n }, (_, x) => ({ x, spinMs: 10 }));
    const { id } = await master.client.submit({
      name: 'freeze',
      module,
      inputs,
      options: { timeoutMs: 300 },
    });
    await readUntilBroken(master.client, id, new Map(), 5);
    frozen.child.kill('SIGSTOP');
    const helper = spawnWorker(master.url, 1);
    // The helper finishes everything, including what the frozen worker held.
    const first = await collectResults(master.client, id);
    expectSquares(first, n);
    helper.child.kill('SIGKILL');
    await helper.exited;
    frozen.child.kill('SIGCONT');
    // The thawed worker sends its stale results first, then does this job: once the
    // job is done, the master has seen (and fenced) every stale result.
    const after = await master.client.submit({
      name: 'after the thaw',
      module,
      inputs: [{ x: 1 }, { x: 2 }],
    });
    const thawed = await collectResults(master.client, after.id);
    expect([...thawed.values()].map((r) => r.ok && r.output).sort()).toEqual([
      1, 4,
    ]);
    const again = await collectResults(master.client, id);
    expectSquares(again, n);
    expect((await master.client.job(id)).counts).toMatchObject({
      done: n,
      failed: 0,
    });
    const metrics = await (await fetch(`${master.url}/metrics`)).text();
    expect(metrics).toMatch(
      new RegExp(`^colony_tasks_done_total ${n + 2}$`, 'm'),
    );
  });

  test('F2b heartbeat: a frozen worker is terminated within two intervals and its tasks re-queued', async () => {
    const master = await startTestMaster({ heartbeatMs: 200 });
    const frozen = spawnWorker(master.url, 1);
    const module = await fixtureModule('square.mjs');
    const n = 100;
    const inputs = Array.from({ length: n }, (_, x) => ({ x, spinMs: 20 }));
    // A lease far longer than the test: only the heartbeat can free the tasks.
    const { id } = await master.client.submit({
      name: 'heartbeat',
      module,
      inputs,
      options: { timeoutMs: 600_000 },
    });
    await readUntilBroken(master.client, id, new Map(), 3);
    frozen.child.kill('SIGSTOP');
    spawnWorker(master.url, 1);
    const results = await collectResults(master.client, id);
    expectSquares(results, n);
    const metrics = await (await fetch(`${master.url}/metrics`)).text();
    expect(metrics).toMatch(/^colony_ws_heartbeat_timeouts_total [1-9]/m);
    frozen.child.kill('SIGCONT');
  });

  test('F3 master kill -9 at random moments, restarted on the same data dir: nothing acknowledged is lost', async () => {
    const dataDir = tempDir();
    const port = await freePort();
    const args = ['--port', String(port)];
    let master = await spawnMaster(dataDir, args);
    const url = master.url;
    spawnWorker(url, 1);
    spawnWorker(url, 1);
    const client = new ColonyClient({ url, token: 'test-token-0123456789' });
    const module = await fixtureModule('square.mjs');
    const n = 3_000;
    const inputs = Array.from({ length: n }, (_, x) => ({ x, spinMs: 1 }));
    const { id } = await client.submit({
      name: 'master crashes',
      module,
      inputs,
    });
    const seen = new Map<number, ResultLine>();
    for (let crash = 0; crash < 3; crash++) {
      // A random point after some progress.
      await readUntilBroken(
        client,
        id,
        seen,
        Math.min(n - 1, seen.size + 50 + Math.floor(Math.random() * 400)),
      );
      master.child.kill('SIGKILL');
      await master.exited;
      master = await spawnMaster(dataDir, args);
      // Every job that got 201 exists; every result we read before the crash is there.
      expect((await client.job(id)).id).toBe(id);
    }
    const results = await collectResults(client, id);
    expectSquares(results, n);
    for (const [index, line] of seen) expect(results.get(index)).toEqual(line);
    expect((await client.job(id)).state).toBe('completed');
  });

  test('F4 poison: throws, exits and endless loops are failed with reasons; all others done', async () => {
    const master = await startTestMaster();
    spawnWorker(master.url, 2);
    spawnWorker(master.url, 2);
    const module = await fixtureModule('poison.mjs');
    const n = 1_000;
    const modeOf = (x: number) =>
      x % 100 === 7
        ? 'throw'
        : x % 200 === 11
          ? 'exit'
          : x === 500 || x === 600 || x === 700
            ? 'loop'
            : 'ok';
    const inputs = Array.from({ length: n }, (_, x) => ({
      mode: modeOf(x),
      x,
    }));
    const expected = { throw: 10, exit: 5, loop: 3 };
    expect(inputs.filter((i) => i.mode === 'throw')).toHaveLength(
      expected.throw,
    );
    expect(inputs.filter((i) => i.mode === 'exit')).toHaveLength(expected.exit);
    const { id } = await master.client.submit({
      name: 'poison',
      module,
      inputs,
      options: { timeoutMs: 1_000, maxAttempts: 3 },
    });
    const results = await collectResults(master.client, id);
    expect(results.size).toBe(n);
    for (let x = 0; x < n; x++) {
      const line = results.get(x);
      const mode = modeOf(x);
      if (mode === 'ok')
        expect(line).toEqual({ index: x, ok: true, output: x + 1 });
      else if (mode === 'throw')
        expect(line).toEqual({
          index: x,
          ok: false,
          error: `poison ${x}`,
          code: 'E_TASK_FAILED',
        });
      else if (mode === 'exit')
        expect(line).toMatchObject({
          ok: false,
          error: expect.stringMatching(/3 times.*exit code 7/),
          code: 'E_TASK_KILLED_WORKERS',
        });
      else
        expect(line).toMatchObject({
          ok: false,
          error: expect.stringMatching(/3 times.*lease/),
          code: 'E_TASK_KILLED_WORKERS',
        });
    }
    const job = await master.client.job(id);
    expect(job.counts).toMatchObject({ done: 982, failed: 18 });
    // The workers survived their poisoned threads.
    expect((await master.client.workers()).length).toBe(2);
  });

  test('F5 SIGTERM mid-job, then restart: nothing lost', async () => {
    const dataDir = tempDir();
    const port = await freePort();
    const args = ['--port', String(port)];
    let master = await spawnMaster(dataDir, args);
    spawnWorker(master.url, 2);
    const client = new ColonyClient({
      url: master.url,
      token: 'test-token-0123456789',
    });
    const module = await fixtureModule('square.mjs');
    const n = 1_000;
    const inputs = Array.from({ length: n }, (_, x) => ({ x, spinMs: 2 }));
    const { id } = await client.submit({ name: 'sigterm', module, inputs });
    const seen = new Map<number, ResultLine>();
    await readUntilBroken(client, id, seen, 200);
    master.child.kill('SIGTERM');
    expect(await master.exited).toBe(0);
    master = await spawnMaster(dataDir, args);
    const results = await collectResults(client, id);
    expectSquares(results, n);
    for (const [index, line] of seen) expect(results.get(index)).toEqual(line);
  });
});
