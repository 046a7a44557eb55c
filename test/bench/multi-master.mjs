// Several masters on one local PostgreSQL (a private cluster, fsync off as the tests
// use it): total tasks/s with 1, 2 and 3 masters (each with one worker of one thread),
// and the time from a master's kill -9 until its claims are back in the queue, until
// every one of them is claimed again by the survivor (re-dispatched), and until the job
// it was running is complete there. Beside the rates, which depend on what else runs on
// the machine: CPU seconds per 10,000 tasks of the masters, the workers and PostgreSQL
// (all its processes; workers with their sandbox children), the database's transactions
// per task and the masters' WebSocket frames per task, which do not; and the
// same with 1 and 2 masters for a task that waits 1 ms without CPU (each master's worker
// with 2 threads), where the cores are not shared by the tasks themselves.
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { ColonyClient, bundleModule } from '../../dist/client.js';
import { startPostgres } from '../../scripts/ensure-postgres.mjs';
import {
  BENCH_DIR,
  TOKEN,
  procTreeCpuSeconds,
  scrapeMetrics,
  sleep,
  startMaster,
  startWorker,
  waitForJob,
  waitForWorkers,
} from './lib.mjs';

const INC = path.join(BENCH_DIR, 'tasks/inc.mjs');
const SLEEP = path.join(BENCH_DIR, 'tasks/sleep.mjs');

/** CPU seconds (user + system) of one process, 0 when it is gone. */
function cpuSeconds(pid) {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8')
      .split(') ')[1]
      .split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return 0;
  }
}

/** CPU seconds of the postmaster and every process it started (backends, writers). */
function postgresCpu(postmaster) {
  let sum = 0;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const fields = readFileSync(`/proc/${entry}/stat`, 'utf8')
        .split(') ')[1]
        .split(' ');
      if (Number(entry) === postmaster || Number(fields[1]) === postmaster)
        sum += (Number(fields[11]) + Number(fields[12])) / 100;
    } catch {
      // gone meanwhile
    }
  }
  return sum;
}

/** The postmaster's pid: the parent of a backend. */
async function postmasterPid(url) {
  const client = new pg.Client({ connectionString: url });
  client.on('error', () => undefined);
  await client.connect();
  try {
    const { rows } = await client.query('SELECT pg_backend_pid() AS pid');
    return Number(
      readFileSync(`/proc/${rows[0].pid}/stat`, 'utf8')
        .split(') ')[1]
        .split(' ')[1],
    );
  } finally {
    await client.end();
  }
}

/** Transactions committed in the database so far. */
async function commits(url) {
  const client = new pg.Client({ connectionString: url });
  client.on('error', () => undefined);
  await client.connect();
  try {
    const { rows } = await client.query(
      'SELECT xact_commit FROM pg_stat_database WHERE datname = current_database()',
    );
    return Number(rows[0].xact_commit);
  } finally {
    await client.end();
  }
}

/** WebSocket frames the masters received and sent so far. */
async function frames(f) {
  let received = 0;
  let sent = 0;
  for (const m of f.masters) {
    for (const [name, value] of Object.entries(await scrapeMetrics(m.url))) {
      if (name.startsWith('colony_ws_frames_received_total')) received += value;
      if (name.startsWith('colony_ws_frames_sent_total')) sent += value;
    }
  }
  return { received, sent };
}

/** What the fleet's processes and the database used while `run` ran. */
async function measured(f, url, postmaster, run) {
  const cpu = () => ({
    masters: f.masters.reduce((s, m) => s + cpuSeconds(m.pid), 0),
    // Each worker with its sandbox child and task threads.
    workers: f.workers.reduce((s, w) => s + procTreeCpuSeconds(w.pid), 0),
    postgres: postgresCpu(postmaster),
  });
  const framesBefore = await frames(f);
  const before = cpu();
  const xacts = await commits(url);
  const started = Date.now();
  const done = await run();
  const seconds = (Date.now() - started) / 1000;
  const after = cpu();
  const framesAfter = await frames(f);
  const per10k = (k) =>
    Math.round(((after[k] - before[k]) / done) * 10_000 * 100) / 100;
  const perTask = (n) => Math.round((n / done) * 1000) / 1000;
  return {
    tasksPerSecond: Math.round(done / seconds),
    done,
    cpuSecondsPer10k: {
      masters: per10k('masters'),
      workers: per10k('workers'),
      postgres: per10k('postgres'),
    },
    // Includes the readers' status polls and heartbeats: a small, steady share.
    transactionsPerTask: perTask((await commits(url)) - xacts),
    // Results frames (and credit) in, tasks frames and acks out: each costs the
    // master far more than a task in it.
    framesPerTask: {
      received: perTask(framesAfter.received - framesBefore.received),
      sent: perTask(framesAfter.sent - framesBefore.sent),
    },
  };
}

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

/**
 * Drops a row's database once its fleet stopped: its dead rows would keep autovacuum
 * busy during the next rows, whose PostgreSQL CPU counts every process of the server.
 */
async function dropDatabase(serverUrl, name) {
  const client = new pg.Client({ connectionString: serverUrl });
  client.on('error', () => undefined);
  await client.connect();
  try {
    await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  } finally {
    await client.end();
  }
}

async function fleet(url, n, threads = 1) {
  const masters = [];
  for (let i = 0; i < n; i++) masters.push(await startMaster({ store: url }));
  const workers = masters.map((m, i) =>
    startWorker(m.url, { threads, name: `mm-${i}` }),
  );
  await Promise.all(masters.map((m) => waitForWorkers(m.url, 1)));
  const stop = async () => {
    await Promise.all(workers.map((w) => w.stop()));
    await Promise.all(masters.map((m) => m.stop()));
  };
  return { masters, workers, stop };
}

/** One fleet of `n` masters on a fresh database: a warm-up job, then the measured one. */
async function throughput(server, postmaster, opts) {
  const { n, name, module, inputs, threads } = opts;
  const url = await newDatabase(server.url, name);
  const f = await fleet(url, n, threads);
  try {
    const client = new ColonyClient({ url: f.masters[0].url, token: TOKEN });
    const warm = await client.submit({
      name: 'warm-up',
      module,
      inputs: inputs.slice(0, 2_000),
    });
    await waitForJob(client, warm.id, 120_000);
    let timedOut = false;
    const figures = await measured(f, url, postmaster, async () => {
      const { id } = await client.submit({ name: 'mm', module, inputs });
      const waited = await waitForJob(client, id, 600_000);
      timedOut = waited.timedOut;
      return waited.job.counts.done;
    });
    return { ...figures, timedOut };
  } finally {
    await f.stop();
    await dropDatabase(server.url, name);
  }
}

export async function multiMaster({ tasks }) {
  const server = await startPostgres();
  const postmaster = await postmasterPid(server.url);
  const module = await bundleModule(INC);
  const sleeper = await bundleModule(SLEEP);
  const figures = {
    tasks,
    postgres: 'private cluster, fsync off, pool 8 per master',
  };
  try {
    const inputs = Array.from({ length: tasks }, (_, i) => i);
    for (const n of [1, 2, 3]) {
      figures[`masters${n}`] = await throughput(server, postmaster, {
        n,
        name: `bench_masters_${n}`,
        module,
        inputs,
        threads: 1,
      });
    }
    // Tasks that wait 1 ms: one master's worker of 2 threads does at most ~1,800/s.
    const waits = Array.from({ length: Math.min(tasks, 20_000) }, (_, x) => ({
      x,
      ms: 1,
    }));
    figures.sleep1ms = {};
    for (const n of [1, 2]) {
      figures.sleep1ms[`masters${n}`] = await throughput(server, postmaster, {
        n,
        name: `bench_sleep_${n}`,
        module: sleeper,
        inputs: waits,
        threads: 2,
      });
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
