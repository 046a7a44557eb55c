// The tail of a job (backup copies): a job of a few hundred 30 ms tasks on 2 fast
// workers alone (the ideal), then with a third worker slowed to a tenth (stopped 90 ms
// of every 100 ms with SIGSTOP/SIGCONT), and with a third that goes quiet holding tasks
// (SIGSTOP 2 s in, never resumed): completion time with backups on and off.
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

const SPIN = path.join(BENCH_DIR, 'tasks/spin.mjs');

/** Stops `child` 90 ms of every 100 ms: a worker at a tenth of its speed. */
function throttle(child) {
  let running = true;
  let pause = null;
  const timer = setInterval(() => {
    child.kill('SIGCONT');
    pause = setTimeout(() => {
      if (running) child.kill('SIGSTOP');
    }, 10);
  }, 100);
  return () => {
    running = false;
    clearInterval(timer);
    clearTimeout(pause);
    child.kill('SIGCONT');
  };
}

/** One run: seconds from submit to the job's end, and its backup counts. */
async function run({ tasks, spinMs, third, backups }) {
  const master = await startMaster({ label: `tail-${third}-${backups}` });
  const workers = [];
  try {
    // Task threads inside the worker process (no sandbox child), so that stopping the
    // process stops its computing too.
    for (const name of ['fast-1', 'fast-2']) {
      workers.push(startWorker(master.url, { name, sandbox: 'none' }));
    }
    let extra;
    if (third !== 'none') {
      extra = startWorker(master.url, { name: third, sandbox: 'none' });
      workers.push(extra);
    }
    await waitForWorkers(master.url, workers.length);
    const client = new ColonyClient({ url: master.url, token: TOKEN });
    const module = await bundleModule(SPIN);
    const inputs = Array.from({ length: tasks }, (_, x) => ({ x, spinMs }));
    const release = third === 'slow' ? throttle(extra.child) : () => {};
    const t0 = Date.now();
    const { id } = await client.submit({
      name: `tail-${third}`,
      module,
      inputs,
      options: { backups },
    });
    if (third === 'quiet') {
      await sleep(2_000);
      extra.child.kill('SIGSTOP');
    }
    const { job, timedOut } = await waitForJob(client, id, 120_000, 20);
    const seconds = ((job.finishedAt ?? Date.now()) - t0) / 1_000;
    release();
    return {
      seconds,
      timedOut,
      done: job.counts.done,
      backups: job.backups ?? { issued: 0, won: 0 },
    };
  } finally {
    for (const w of workers) {
      w.child.kill('SIGCONT');
      await stopChild(w.child, 'SIGKILL');
    }
    await master.stop();
  }
}

/** Every configuration; ratios are against the 2 fast workers alone. */
export async function tail({ tasks = 300, spinMs = 30 } = {}) {
  const base = { tasks, spinMs };
  const ideal = await run({ ...base, third: 'none', backups: true });
  const out = { tasks, spinMs, ideal };
  for (const third of ['slow', 'quiet']) {
    for (const backups of [true, false]) {
      const r = await run({ ...base, third, backups });
      out[`${third}${backups ? 'On' : 'Off'}`] = {
        ...r,
        ratio: r.seconds / ideal.seconds,
      };
    }
  }
  return out;
}
