// Several `colony master --store postgres://...` processes on one real PostgreSQL, with
// real workers: a job submitted on one is run by all, survives a master's kill -9 and
// another's SIGSTOP past its lease, and is read, complete and exactly once, from a third.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { ColonyClient } from '../../server/client/index.js';
import {
  collectResults,
  fixtureModule,
  spawnMaster,
  spawnWorker,
  tempDir,
  waitForOutput,
  waitForResults,
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

async function clusterMaster(url: string) {
  const master = await spawnMaster(tempDir(), ['--store', url]);
  return {
    ...master,
    client: new ColonyClient({ url: master.url, token: TOKEN }),
  };
}

/** Resolves once `sql` returns a row whose `n` reaches `atLeast` (a condition, polled). */
async function untilCount(url: string, sql: string, atLeast: number) {
  const pool = testPool(url);
  try {
    for (;;) {
      const { rows } = await pool.query<{ n: string }>(sql);
      if (Number(rows[0]?.n ?? 0) >= atLeast) return;
      await new Promise((r) => setTimeout(r, 100));
    }
  } finally {
    await pool.end();
  }
}

/**
 * `promise`, or an error naming the step and the stopped master's last log lines once
 * `ms` pass: a hang says where it is, not only that the test ran out of time.
 */
async function step<T>(
  label: string,
  promise: Promise<T>,
  log: () => string,
  ms = 100_000,
): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const stalled = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () =>
        reject(
          new Error(
            `stalled at: ${label}; the stopped master's stderr ends with:\n${log().slice(-4_000)}`,
          ),
        ),
      ms,
    );
  });
  try {
    return await Promise.race([promise, stalled]);
  } finally {
    clearTimeout(timer);
  }
}

describe('several masters on one PostgreSQL', () => {
  test(
    'kill -9 of one and SIGSTOP of another mid-job: every result once, read from a third',
    { timeout: 240_000 },
    async () => {
      const url = await pgServer.another();
      const [a, b, c] = await Promise.all([
        clusterMaster(url),
        clusterMaster(url),
        clusterMaster(url),
      ]);
      for (const m of [a, b, c]) spawnWorker(m.url, 2);
      const module = await fixtureModule('square.mjs');
      // Tasks long enough (10 ms) that the worker of the master stopped below is
      // always in the middle of some, whose results it sends while that master is stopped.
      const TASKS = 2_000;
      const inputs = Array.from({ length: TASKS }, (_, x) => ({
        x,
        spinMs: 10,
      }));
      const { id } = await a.client.submit({ name: 'sq', module, inputs });
      const log = () => b.stderr();

      await step('400 results', waitForResults(c.client, id, 400), log);
      a.child.kill('SIGKILL');
      b.child.kill('SIGSTOP');
      // Both silent past the TTL: the survivor marks them lapsed and takes their claims.
      await step(
        'both masters marked lapsed',
        untilCount(url, 'SELECT count(*) AS n FROM masters WHERE lapsed', 2),
        log,
      );
      b.child.kill('SIGCONT');

      const results = await step(
        'every result',
        collectResults(c.client, id),
        log,
      );
      expect(results.size).toBe(TASKS);
      for (let x = 0; x < TASKS; x++) {
        expect(results.get(x)).toEqual({ index: x, ok: true, output: x * x });
      }
      const detail = await c.client.job(id);
      expect(detail.state).toBe('completed');
      expect(detail.counts).toMatchObject({ total: TASKS, done: TASKS });
      // The stopped master learnt it had lapsed, and the results its worker sent while
      // it was stopped (read on resume, before its heartbeat's answer) went to the
      // database after the takeover: that batch was fenced, changing nothing (every
      // result above is once and correct).
      await step(
        'the stopped master logs its lapse',
        waitForOutput(b, (out) => out.includes('claims lapsed'), 'stderr'),
        log,
      );
      // One complete log line per fenced batch, with its count.
      const line = /"fenced":(\d+)[^\n]*records fenced[^\n]*\n/;
      const out = await step(
        'the stopped master logs fenced records',
        waitForOutput(b, (text) => line.test(text), 'stderr'),
        log,
      );
      const fenced = [...out.matchAll(new RegExp(line.source, 'g'))].map((m) =>
        Number(m[1]),
      );
      expect(fenced.reduce((sum, n) => sum + n, 0)).toBeGreaterThan(0);
      // And it serves the job too, from the database.
      expect((await b.client.job(id)).state).toBe('completed');
    },
  );

  test(
    'concurrent submits and cancels on different masters',
    { timeout: 180_000 },
    async () => {
      const url = await pgServer.another();
      const [m1, m2] = await Promise.all([
        clusterMaster(url),
        clusterMaster(url),
      ]);
      spawnWorker(m1.url, 1);
      spawnWorker(m2.url, 1);
      const module = await fixtureModule('square.mjs');
      // Long enough that neither ends before the cancels (claims take the oldest first).
      const long = Array.from({ length: 4_000 }, (_, x) => ({ x, spinMs: 20 }));
      const short = Array.from({ length: 300 }, (_, x) => ({ x }));
      const [j1, j2, j3] = await Promise.all([
        m1.client.submit({ name: 'one', module, inputs: long }),
        m2.client.submit({ name: 'two', module, inputs: long }),
        m2.client.submit({ name: 'three', module, inputs: short }),
      ]);
      // Claims take the oldest job first: whichever long job was created first runs;
      // cancel both once it has started.
      const started = [j1, j2].map((j) =>
        waitForResults(m2.client, j.id, 4).then(
          () => true,
          () => false,
        ),
      );
      expect(await Promise.race(started)).toBe(true);
      // Each cancelled on the master it was not submitted on, at the same time.
      await Promise.all([m2.client.cancel(j1.id), m1.client.cancel(j2.id)]);
      for (const m of [m1, m2]) {
        expect((await m.client.job(j1.id)).state).toBe('cancelled');
        expect((await m.client.job(j2.id)).state).toBe('cancelled');
      }
      // The third runs to the end on both, and the cancelled ones end their streams.
      const results = await collectResults(m1.client, j3.id);
      expect(results.size).toBe(300);
      for (const [x, line] of results)
        expect(line).toEqual({ index: x, ok: true, output: x * x });
      const partial = await collectResults(m1.client, j1.id);
      expect(partial.size).toBeLessThan(4_000);
      // Nothing is recorded after the cancel: counts stay as they were.
      const before = (await m1.client.job(j1.id)).counts;
      spawnWorker(m2.url, 1);
      await waitForResults(m2.client, j3.id, 300);
      expect((await m2.client.job(j1.id)).counts.done).toBe(before.done);
    },
  );

  test(
    'a master restarted on the same database resumes the job',
    { timeout: 180_000 },
    async () => {
      const url = await pgServer.another();
      const dir = tempDir();
      const first = await spawnMaster(dir, ['--store', url]);
      const client = new ColonyClient({ url: first.url, token: TOKEN });
      const w = spawnWorker(first.url, 1);
      const module = await fixtureModule('square.mjs');
      const inputs = Array.from({ length: 300 }, (_, x) => ({ x, spinMs: 10 }));
      const { id } = await client.submit({ name: 'r', module, inputs });
      await waitForResults(client, id, 20);
      first.child.kill('SIGKILL');
      w.child.kill('SIGKILL');

      const again = await spawnMaster(dir, ['--store', url]);
      const client2 = new ColonyClient({ url: again.url, token: TOKEN });
      spawnWorker(again.url, 2);
      const results = await collectResults(client2, id);
      expect(results.size).toBe(300);
      for (const [x, line] of results)
        expect(line).toEqual({ index: x, ok: true, output: x * x });
    },
  );
});
