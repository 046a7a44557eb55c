// A long task lost near its end (checkpoints): one task of `steps` steps of `stepMs`
// each; its worker is killed with kill -9 once the task's progress passes `killAt`,
// and a second worker, idle until then, takes it over. With checkpoints (one after
// every step) it resumes from the last one the master kept; without, it starts again
// from zero. Reports both completion times against the task alone, and the time saved.
import path from 'node:path';
import { ColonyClient, bundleModule } from '../../dist/client.js';
import {
  BENCH_DIR,
  TOKEN,
  sleep,
  startMaster,
  startWorker,
  stopChild,
  waitForJob,
  waitForWorkers,
} from './lib.mjs';

const STEPS = path.join(BENCH_DIR, 'tasks/steps.mjs');

/** Polls the job until its running task reports `fraction` done. */
async function progressPast(client, id, fraction) {
  for (;;) {
    const job = await client.job(id);
    if (job.state !== 'running' || job.partial >= fraction) return job;
    await sleep(20);
  }
}

/** One run: seconds from submit to the job's end, and where the last attempt started. */
async function run({ steps, stepMs, killAt, checkpoint }) {
  const master = await startMaster({ label: `checkpoint-${killAt}` });
  const workers = [];
  try {
    const victim = startWorker(master.url, { name: 'victim', sandbox: 'none' });
    workers.push(victim);
    await waitForWorkers(master.url, 1);
    const client = new ColonyClient({ url: master.url, token: TOKEN });
    const module = await bundleModule(STEPS);
    const t0 = Date.now();
    const { id } = await client.submit({
      name: 'long task',
      module,
      inputs: [{ steps, stepMs, checkpoint }],
      // One task: no backup copy would be due anyway; off to measure resuming alone.
      options: { backups: false, timeoutMs: 10 * steps * stepMs },
    });
    // The rescuer joins once the task is under way: it would otherwise be idle anyway.
    await progressPast(client, id, 0.1);
    const rescuer = startWorker(master.url, {
      name: 'rescuer',
      sandbox: 'none',
    });
    workers.push(rescuer);
    await waitForWorkers(master.url, 2);
    let killedAt = null;
    if (killAt !== null) {
      await progressPast(client, id, killAt);
      victim.child.kill('SIGKILL');
      killedAt = (Date.now() - t0) / 1_000;
    }
    const { job, timedOut } = await waitForJob(client, id, 120_000, 20);
    const seconds = ((job.finishedAt ?? Date.now()) - t0) / 1_000;
    let output = null;
    for await (const line of client.results(id))
      output = line.ok && line.output;
    return {
      seconds,
      killedAt,
      timedOut,
      from: output?.from ?? null,
      attempt: output?.attempt ?? null,
      checkpoints: job.checkpoints ?? null,
    };
  } finally {
    for (const w of workers) await stopChild(w.child, 'SIGKILL');
    await master.stop();
  }
}

/** The task alone, then killed at `killAt` with and without checkpoints. */
export async function checkpointScenario({
  steps = 50,
  stepMs = 100,
  killAt = 0.9,
} = {}) {
  const base = { steps, stepMs };
  const alone = await run({ ...base, killAt: null, checkpoint: true });
  const resumed = await run({ ...base, killAt, checkpoint: true });
  const restarted = await run({ ...base, killAt, checkpoint: false });
  return {
    steps,
    stepMs,
    killAt,
    alone,
    resumed,
    restarted,
    savedSeconds: restarted.seconds - resumed.seconds,
  };
}
