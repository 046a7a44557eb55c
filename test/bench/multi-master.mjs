// Several masters on one local PostgreSQL (a private cluster, fsync off as the tests
// use it): total tasks/s with 1, 2 and 3 masters (each with one worker of one thread),
// and the time from a master's kill -9 until its claims are back in the queue, until
// every one of them is claimed again by the survivor (re-dispatched), and until the job
// it was running is complete there.
import path from 'node:path';
import pg from 'pg';
import { ColonyClient, bundleModule } from '../../dist/client.js';
import { startPostgres } from '../../scripts/ensure-postgres.mjs';
import {
  BENCH_DIR,
  TOKEN,
  sleep,
  startMaster,
  startWorker,
  waitForJob,
  waitForWorkers,
} from './lib.mjs';

const INC = path.join(BENCH_DIR, 'tasks/inc.mjs');

async function newDatabase(serverUrl, name) {
  const client = new pg.Client({ connectionString: serverUrl });
  client.on('error', () => undefined);
  await client.connect();
  try {
    await client.query(`CREATE DATABASE ${name}`);
  } finally {
    await client.end();
  }
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return url.toString();
}

async function fleet(url, n) {
  const masters = [];
  for (let i = 0; i < n; i++) masters.push(await startMaster({ store: url }));
  const workers = masters.map((m, i) =>
    startWorker(m.url, { threads: 1, name: `mm-${i}` }),
  );
  await Promise.all(masters.map((m) => waitForWorkers(m.url, 1)));
  const stop = async () => {
    await Promise.all(workers.map((w) => w.stop()));
    await Promise.all(masters.map((m) => m.stop()));
  };
  return { masters, workers, stop };
}

export async function multiMaster({ tasks }) {
  const server = await startPostgres();
  const module = await bundleModule(INC);
  const figures = {
    tasks,
    postgres: 'private cluster, fsync off, pool 8 per master',
  };
  try {
    for (const n of [1, 2, 3]) {
      const url = await newDatabase(server.url, `bench_masters_${n}`);
      const f = await fleet(url, n);
      try {
        const client = new ColonyClient({
          url: f.masters[0].url,
          token: TOKEN,
        });
        const warm = await client.submit({
          name: 'warm-up',
          module,
          inputs: Array.from({ length: 2_000 }, (_, i) => i),
        });
        await waitForJob(client, warm.id, 120_000);
        const inputs = Array.from({ length: tasks }, (_, i) => i);
        const started = Date.now();
        const { id } = await client.submit({ name: 'mm', module, inputs });
        const { job, timedOut } = await waitForJob(client, id, 600_000);
        const seconds = (Date.now() - started) / 1000;
        figures[`masters${n}`] = {
          tasksPerSecond: Math.round(job.counts.done / seconds),
          done: job.counts.done,
          timedOut,
        };
      } finally {
        await f.stop();
      }
    }
    figures.failover = await failover(server.url, module, tasks);
  } finally {
    server.stop();
  }
  return figures;
}

async function failover(serverUrl, module, tasks) {
  const url = await newDatabase(serverUrl, 'bench_failover');
  const f = await fleet(url, 2);
  const pool = new pg.Pool({ connectionString: url, max: 1 });
  pool.on('error', () => undefined);
  try {
    const [dead, alive] = f.masters;
    const client = new ColonyClient({ url: alive.url, token: TOKEN });
    const inputs = Array.from({ length: tasks }, (_, i) => i);
    const { id } = await client.submit({ name: 'failover', module, inputs });
    let held = 0;
    let deadId;
    // Until the master to be killed holds claims.
    for (;;) {
      const { rows } = await pool.query(
        `SELECT m.id, count(t.*)::int AS n FROM masters m
           LEFT JOIN tasks t ON t.claimed_by = m.id AND t.state = 1
          WHERE m.address = $1 GROUP BY m.id`,
        [dead.url],
      );
      if (rows[0]?.n > 0) {
        deadId = rows[0].id;
        held = rows[0].n;
        break;
      }
      await sleep(20);
    }
    dead.child.kill('SIGKILL');
    const killed = Date.now();
    // The dead master's claims, as they stood when it died (nothing changes them
    // until the takeover).
    const { rows: lost } = await pool.query(
      'SELECT jid, idx FROM tasks WHERE claimed_by = $1 AND state = 1',
      [deadId],
    );
    const jids = lost.map((r) => r.jid);
    const idxs = lost.map((r) => r.idx);
    let requeuedMs;
    for (;;) {
      // Re-dispatched: claimed by the other master (or already ended there).
      const { rows } = await pool.query(
        `SELECT count(*) FILTER (WHERE t.state = 1 AND t.claimed_by = $1)::int AS held,
                count(*) FILTER (WHERE t.state = 0)::int AS queued
           FROM unnest($2::bigint[], $3::int[]) AS l(jid, idx)
           JOIN tasks t USING (jid, idx)`,
        [deadId, jids, idxs],
      );
      if (requeuedMs === undefined && rows[0].held === 0)
        requeuedMs = Date.now() - killed;
      if (rows[0].held === 0 && rows[0].queued === 0) break;
      await sleep(20);
    }
    const redispatchedMs = Date.now() - killed;
    const { job } = await waitForJob(client, id, 600_000);
    return {
      claimsHeldAtKill: held,
      killToRequeuedMs: requeuedMs,
      killToRedispatchedMs: redispatchedMs,
      killToJobDoneMs: Date.now() - killed,
      done: job.counts.done,
    };
  } finally {
    await pool.end();
    await f.stop();
  }
}
