/**
 * Deleting jobs through the API and the CLI, and retention: a real master (real
 * sockets, a real SQLite file), real `colony worker` and `colony delete` processes.
 */
import { readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, test } from 'vitest';
import { ErrorCode } from '../../shared/errors.js';
import { jobId } from '../helpers/ids.js';
import {
  collectResults,
  fixtureModule,
  spawnColony,
  spawnWorker,
  startTestMaster,
  tempDir,
} from '../helpers/master.js';

const AUTH = { authorization: 'Bearer test-token' };

async function purge(url: string, id: string) {
  const response = await fetch(`${url}/api/jobs/${id}?purge=1`, {
    method: 'DELETE',
    headers: AUTH,
  });
  return { status: response.status, body: (await response.json()) as unknown };
}

async function status(url: string, route: string): Promise<number> {
  const response = await fetch(`${url}${route}`, { headers: AUTH });
  await response.arrayBuffer();
  return response.status;
}

function dirBytes(dir: string): number {
  return readdirSync(dir).reduce(
    (sum, name) => sum + statSync(path.join(dir, name)).size,
    0,
  );
}

describe('DELETE /api/jobs/:id?purge=1', () => {
  test('a completed job: results gone, 404 after; the module stays while another job uses it', async () => {
    const master = await startTestMaster();
    const { client, url } = master;
    const module = await fixtureModule('square.mjs');
    const inputs = Array.from({ length: 20 }, (_, x) => ({ x }));
    const first = await client.submit({ name: 'one', module, inputs });
    const second = await client.submit({ name: 'two', module, inputs });
    spawnWorker(url, 2);
    expect((await collectResults(client, first.id)).size).toBe(20);
    expect((await collectResults(client, second.id)).size).toBe(20);
    const moduleHash = master.runtime.scheduler.jobView(jobId(first.id))!.spec
      .moduleHash;

    expect(await purge(url, first.id)).toMatchObject({
      status: 200,
      body: { id: first.id, purged: true },
    });
    expect(await status(url, `/api/jobs/${first.id}`)).toBe(404);
    expect(await status(url, `/api/jobs/${first.id}/results`)).toBe(404);
    expect(master.runtime.store.readResults(jobId(first.id), 0, 100)).toEqual(
      [],
    );
    expect(master.runtime.store.getModule(moduleHash)).toBeDefined();
    expect((await collectResults(client, second.id)).size).toBe(20);

    // `colony delete` removes the other one, and the module with it.
    const cli = spawnColony(['delete', second.id, '--url', url], {
      COLONY_TOKEN: 'test-token',
    });
    expect(await cli.exited).toBe(0);
    expect(cli.stdout()).toContain(`job ${second.id} deleted`);
    expect(await status(url, `/api/jobs/${second.id}`)).toBe(404);
    expect(master.runtime.store.getModule(moduleHash)).toBeUndefined();
    // Purged ids are not given again.
    const third = await client.submit({ name: 'three', module, inputs: [] });
    expect(Number(third.id)).toBeGreaterThan(Number(second.id));
  });

  test('a running job is cancelled first; its open results stream ends cleanly', async () => {
    const master = await startTestMaster();
    const { client, url } = master;
    const module = await fixtureModule('square.mjs');
    // No worker: the job stays running.
    const job = await client.submit({
      name: 'running',
      module,
      inputs: [{ x: 1 }, { x: 2 }],
    });
    const lines: unknown[] = [];
    const streamed = (async () => {
      for await (const line of client.results(job.id, { follow: true }))
        lines.push(line);
    })();
    // The stream is open once the master counts a reader on the job.
    await new Promise<void>((resolve) => {
      const check = () =>
        master.runtime.listenerCount('job-purged') > 0
          ? resolve()
          : setImmediate(check);
      check();
    });
    const cancelled = new Promise<string>((resolve) =>
      master.runtime.once('job-finished', resolve),
    );
    expect((await purge(url, job.id)).status).toBe(200);
    expect(await cancelled).toBe(job.id);
    await streamed;
    expect(lines).toEqual([]);
    expect(await status(url, `/api/jobs/${job.id}`)).toBe(404);
  });

  test('a cancelled job; a second delete is 404; no token is 401', async () => {
    const master = await startTestMaster();
    const { client, url } = master;
    const module = await fixtureModule('square.mjs');
    const job = await client.submit({ name: 'c', module, inputs: [{ x: 1 }] });
    await client.cancel(job.id);
    const anonymous = await fetch(`${url}/api/jobs/${job.id}?purge=1`, {
      method: 'DELETE',
    });
    expect(anonymous.status).toBe(401);
    expect((await purge(url, job.id)).status).toBe(200);
    const again = await purge(url, job.id);
    expect(again.status).toBe(404);
    expect(again.body).toMatchObject({ error: { code: ErrorCode.NotFound } });
  });

  test('the data dir shrinks after purging a big job', async () => {
    const dataDir = tempDir();
    const master = await startTestMaster({ dataDir });
    const { client, url } = master;
    const module = await fixtureModule('square.mjs');
    const pad = 'p'.repeat(200);
    const inputs = Array.from({ length: 20_000 }, (_, x) => ({ x, pad }));
    const job = await client.submit({ name: 'big', module, inputs });
    spawnWorker(url, 2);
    expect((await collectResults(client, job.id)).size).toBe(20_000);
    const before = dirBytes(dataDir);
    expect((await purge(url, job.id)).status).toBe(200);
    const after = dirBytes(dataDir);
    expect(before).toBeGreaterThan(4_000_000);
    expect(after).toBeLessThan(before / 2);
  });
});

describe('colony master --retain', () => {
  test('purges jobs ended longer ago than the retention, keeps the running one', async () => {
    const master = await startTestMaster({ retainMs: 1_000 });
    const { client } = master;
    const module = await fixtureModule('square.mjs');
    const ended = await client.submit({ name: 'ended', module, inputs: [] });
    const running = await client.submit({
      name: 'running',
      module,
      inputs: [{ x: 1 }],
    });
    expect((await client.job(ended.id)).state).toBe('completed');
    // The retention timer purges it between 1 and 2 s after its end.
    await new Promise<void>((resolve) => {
      const onPurged = (id: string) => {
        if (id !== ended.id) return;
        master.runtime.off('job-purged', onPurged);
        resolve();
      };
      master.runtime.on('job-purged', onPurged);
    });
    expect(master.runtime.scheduler.jobView(jobId(ended.id))).toBeUndefined();
    expect((await client.job(running.id)).state).toBe('running');
  });

  test('a bad duration is refused with a one-line message', async () => {
    const cli = spawnColony(['master', '--retain', '7w', '--port', '0']);
    expect(await cli.exited).toBe(2);
    expect(cli.stderr()).toContain('--retain must be a duration like 7d');
  });
});
