// Deleting jobs and retention on masters that share one real PostgreSQL: a purge on one
// master is seen by the others (404, streams ended), the module stays while another
// job uses it, and `--retain` purges only jobs that ended before the cutoff.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { ColonyClient } from '../../server/client/index.js';
import {
  collectResults,
  fixtureModule,
  spawnMaster,
  spawnWorker,
  tempDir,
} from '../helpers/master.js';
import {
  testPool,
  usePostgres,
  type TestPostgres,
} from '../helpers/postgres.js';

let pgServer: TestPostgres;
beforeAll(async () => {
  pgServer = await usePostgres();
});
afterAll(async () => {
  await pgServer.stop();
});

const TOKEN = 'test-token-0123456789';
const AUTH = { authorization: `Bearer ${TOKEN}` };

async function clusterMaster(url: string, extra: string[] = []) {
  const master = await spawnMaster(tempDir(), ['--store', url, ...extra]);
  return {
    ...master,
    client: new ColonyClient({ url: master.url, token: TOKEN }),
  };
}

async function status(url: string, route: string): Promise<number> {
  const response = await fetch(`${url}${route}`, { headers: AUTH });
  await response.arrayBuffer();
  return response.status;
}

async function moduleCount(url: string): Promise<number> {
  const pool = testPool(url);
  try {
    const { rows } = await pool.query<{ n: string }>(
      'SELECT count(*) AS n FROM modules',
    );
    return Number(rows[0]?.n);
  } finally {
    await pool.end();
  }
}

describe('purge and retention on several masters', () => {
  test(
    'a purge on one master: 404 on every master, the module kept while used, a running job cancelled first and its stream ended',
    { timeout: 120_000 },
    async () => {
      const url = await pgServer.another();
      const [a, b] = await Promise.all([
        clusterMaster(url),
        clusterMaster(url),
      ]);
      spawnWorker(a.url, 2);
      const module = await fixtureModule('square.mjs');
      const inputs = Array.from({ length: 20 }, (_, x) => ({ x }));
      const one = await a.client.submit({ name: 'one', module, inputs });
      const two = await a.client.submit({ name: 'two', module, inputs });
      expect((await collectResults(a.client, one.id)).size).toBe(20);
      expect((await collectResults(b.client, two.id)).size).toBe(20);

      expect(await b.client.purge(one.id)).toMatchObject({
        id: one.id,
        purged: true,
      });
      for (const m of [a, b]) {
        expect(await status(m.url, `/api/jobs/${one.id}`)).toBe(404);
        expect(await status(m.url, `/api/jobs/${one.id}/results`)).toBe(404);
      }
      // The other job still uses the module.
      expect(await moduleCount(url)).toBe(1);
      expect((await collectResults(a.client, two.id)).size).toBe(20);

      // A running job (long tasks, one worker): purged from b while a follows its
      // results, it is cancelled first and a's stream ends cleanly.
      const slow = Array.from({ length: 500 }, (_, x) => ({ x, spinMs: 200 }));
      const running = await b.client.submit({
        name: 'running',
        module,
        inputs: slow,
      });
      const follower = collectResults(a.client, running.id);
      expect(await b.client.purge(running.id)).toMatchObject({ purged: true });
      const partial = await follower;
      expect(partial.size).toBeLessThan(500);
      expect(await status(a.url, `/api/jobs/${running.id}`)).toBe(404);

      await a.client.purge(two.id);
      expect(await moduleCount(url)).toBe(0);
      // Purging again, from either master, is a 404.
      expect(await status(b.url, `/api/jobs/${two.id}`)).toBe(404);
      await expect(b.client.purge(two.id)).rejects.toThrow(/no job/);
    },
  );

  test(
    '--retain purges the jobs that ended before the cutoff, never a running one',
    { timeout: 120_000 },
    async () => {
      const url = await pgServer.another();
      const a = await clusterMaster(url, ['--retain', '2s']);
      spawnWorker(a.url, 1);
      const module = await fixtureModule('square.mjs');
      const done = await a.client.submit({
        name: 'done',
        module,
        inputs: [{ x: 1 }, { x: 2 }],
      });
      expect((await collectResults(a.client, done.id)).size).toBe(2);
      // Open: never sealed, so it runs for as long as the test.
      const open = await a.client.submit({ name: 'open', module });
      // Retention runs every second: the ended job goes once 2 s have passed.
      for (;;) {
        if ((await status(a.url, `/api/jobs/${done.id}`)) === 404) break;
        await new Promise((r) => setTimeout(r, 250));
      }
      expect((await a.client.job(open.id)).state).toBe('running');
      const page = await a.client.jobPage();
      expect(page.jobs.map((j) => j.id)).toEqual([open.id]);
      expect(page.total).toBe(1);
    },
  );
});
