/**
 * `colony worker`'s controls with real parts: `--cpu` lowers the rate a worker gives
 * (compared with a full-share worker on the same job, at the same time), and SIGTSTP
 * pauses it (what it finished is recorded, what it had not started goes back, nothing
 * runs twice) until SIGCONT.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, test } from 'vitest';
import {
  FIXTURES,
  collectResults,
  fixtureModule,
  spawnColony,
  startTestMaster,
  tempDir,
  waitForOutput,
  waitForResults,
} from '../helpers/master.js';

const connected = (text: string) => text.includes('"worker connected"');

describe('colony worker --cpu', () => {
  test('a worker at 50% does clearly fewer tasks than one at 100% on the same job', async () => {
    const master = await startTestMaster();
    const spawnAt = (cpu: number) =>
      spawnColony(
        ['worker', master.url, '--threads', '1', '--cpu', String(cpu)].concat([
          '--name',
          `cpu-${cpu}`,
        ]),
        { COLONY_LOG_LEVEL: 'info' },
      );
    const full = spawnAt(100);
    const half = spawnAt(50);
    await Promise.all(
      [full, half].map((w) => waitForOutput(w, connected, 'stderr')),
    );
    expect(half.stderr()).toContain('at 50% CPU');
    const module = await fixtureModule('square.mjs');
    // 5 ms of CPU a task, 600 of them: seconds of work shared by the two.
    const inputs = Array.from({ length: 600 }, (_, x) => ({ x, spinMs: 5 }));
    const { id } = await master.client.submit({ name: 'duty', module, inputs });
    const results = await collectResults(master.client, id);
    expect(results.size).toBe(600);
    const workers = await master.client.workers();
    const doneBy = (name: string) =>
      workers.find((w) => w.name === name)?.done ?? 0;
    const slow = doneBy('cpu-50');
    const fast = doneBy('cpu-100');
    expect(slow + fast).toBe(600);
    // Same job, same time, same machine: resting as long as it runs, the 50% worker
    // does about half as many (generous: the machine is shared).
    expect(slow).toBeGreaterThan(0);
    expect(slow / fast).toBeLessThan(0.8);
  });

  test('--cpu out of 1..100 is refused with a clear message', async () => {
    const worker = spawnColony(['worker', 'http://127.0.0.1:1', '--cpu', '0']);
    expect(await worker.exited).toBe(2);
    expect(worker.stderr()).toContain('--cpu must be at least 1');
    const over = spawnColony(['worker', 'http://127.0.0.1:1', '--cpu', '101']);
    expect(await over.exited).toBe(2);
    expect(over.stderr()).toContain('--cpu must be at most 100');
  });
});

describe('colony worker pause', () => {
  test('SIGTSTP: finished tasks are recorded, unstarted ones go back, none runs twice; SIGCONT resumes', async () => {
    const master = await startTestMaster();
    const dir = tempDir();
    const tally = path.join(dir, 'tally.txt');
    const runs = () =>
      readFileSync(tally, 'utf8').split('\n').filter(Boolean).map(Number);
    const worker = spawnColony(
      ['worker', master.url, '--threads', '2', '--sandbox', 'none'],
      { COLONY_LOG_LEVEL: 'info' },
    );
    await waitForOutput(worker, connected, 'stderr');
    const module = readFileSync(path.join(FIXTURES, 'tally.mjs'), 'utf8');
    const total = 300;
    const inputs = Array.from({ length: total }, (_, x) => ({
      x,
      tally,
      spinMs: 20,
    }));
    const { id } = await master.client.submit({
      name: 'tally',
      module,
      inputs,
    });
    await waitForResults(master.client, id, 10);

    worker.child.kill('SIGTSTP');
    await waitForOutput(worker, (t) => t.includes('paused'), 'stderr');
    // The pause ends with the socket closed: the master sees the worker leave.
    await waitForOutput(worker, (t) => t.includes('"worker paused"'), 'stderr');
    await expect
      .poll(async () => (await master.client.workers()).length)
      .toBe(0);
    // The process is still there (the signal was handled, not a stop).
    expect(worker.child.exitCode).toBeNull();
    const job = await master.client.job(id);
    const ran = runs();
    // Every task that ran has its result recorded: nothing finished was given back...
    expect(job.counts.done).toBe(ran.length);
    // ...and nothing is left running on the paused worker.
    expect(job.counts.running).toBe(0);
    expect(job.counts.queued).toBe(total - ran.length);
    expect(ran.length).toBeLessThan(total);

    worker.child.kill('SIGCONT');
    await waitForOutput(worker, (t) => t.includes('resumed'), 'stderr');
    const results = await collectResults(master.client, id);
    expect(results.size).toBe(total);
    // Each task ran exactly once, across the pause.
    const all = runs().sort((x, y) => x - y);
    expect(all).toEqual(Array.from({ length: total }, (_, x) => x));
  });
});

describe('colony worker pause, task code in its sandbox (the default)', () => {
  test('SIGTSTP pauses through the sandbox child: nothing left running, every result once after SIGCONT', async () => {
    const master = await startTestMaster();
    const worker = spawnColony(['worker', master.url, '--threads', '2'], {
      COLONY_LOG_LEVEL: 'info',
    });
    await waitForOutput(worker, connected, 'stderr');
    const module = await fixtureModule('square.mjs');
    const total = 300;
    const inputs = Array.from({ length: total }, (_, x) => ({
      x,
      spinMs: 20,
    }));
    const { id } = await master.client.submit({ name: 'sq', module, inputs });
    await waitForResults(master.client, id, 10);

    worker.child.kill('SIGTSTP');
    await waitForOutput(worker, (t) => t.includes('"worker paused"'), 'stderr');
    await expect
      .poll(async () => (await master.client.workers()).length)
      .toBe(0);
    const job = await master.client.job(id);
    expect(job.counts.running).toBe(0);
    expect(job.counts.done).toBeLessThan(total);
    expect(job.counts.queued).toBe(total - job.counts.done);

    worker.child.kill('SIGCONT');
    const results = await collectResults(master.client, id);
    expect(results.size).toBe(total);
    for (let x = 0; x < total; x++)
      expect(results.get(x)).toEqual({ index: x, ok: true, output: x * x });
  });
});
