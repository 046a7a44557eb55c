// Real inputs through the HTTP API, against one freshly started master and 2 Node
// workers: the first job after start (cold) against the same job again (warm), ~130-byte
// records against numbers, and inputs appended as NDJSON in chunks of 20,000 lines
// against one POST of the same inputs. After start every kind runs once per round,
// interleaved, so that each sees the same (noisy, shared) machine; the figures are
// medians. Every job is checked: all tasks done, every output as expected.
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { ColonyClient, bundleModule } from '../../dist/client.js';
import {
  BENCH_DIR,
  TOKEN,
  procCpuSeconds,
  procTreeCpuSeconds,
  sleep,
  startMaster,
  startWorker,
  waitForJob,
  waitForWorkers,
} from './lib.mjs';

const INC = path.join(BENCH_DIR, 'tasks/inc.mjs');
const RECORD = path.join(BENCH_DIR, 'tasks/record.mjs');
const APPEND_LINES = 20_000;
const TEXT = 'lorem ipsum dolor sit amet '.repeat(4);

const numbers = (n) => Array.from({ length: n }, (_, i) => i);
const records = (n) =>
  Array.from({ length: n }, (_, i) => ({ id: `task-${i}`, x: i, text: TEXT }));

/** The output each kind's task must give for input i. */
const expected = {
  numbers: (i) => i + 1,
  records: (i) => ({ id: `task-${i}`, length: TEXT.length, next: i + 1 }),
};

/** Runs one job end to end; its rate counts from the first request to the end. */
async function runJob(client, { module, inputs, append, timeoutMs }) {
  const started = performance.now();
  let id;
  if (append) {
    ({ id } = await client.submit({ name: 'appended', module, sealed: false }));
    for (let i = 0; i < inputs.length; i += APPEND_LINES)
      await client.append(id, inputs.slice(i, i + APPEND_LINES));
    await client.seal(id);
  } else {
    ({ id } = await client.submit({ name: 'one-post', module, inputs }));
  }
  const { job, timedOut } = await waitForJob(client, id, timeoutMs, 10);
  const seconds = (performance.now() - started) / 1000;
  if (timedOut || job.counts.done !== inputs.length)
    throw new Error(`job ${id}: ${job.counts.done}/${inputs.length} done`);
  return { id, seconds, perSecond: inputs.length / seconds };
}

/** Reads every result of a job and compares it with what the task must give. */
async function checkResults(client, id, count, want) {
  const seen = new Uint8Array(count);
  let lines = 0;
  for await (const line of client.results(id)) {
    if (!line.ok) throw new Error(`job ${id}: task ${line.index} failed`);
    const good =
      JSON.stringify(line.output) === JSON.stringify(want(line.index));
    if (!good)
      throw new Error(`job ${id}: task ${line.index} gave a wrong output`);
    seen[line.index] = 1;
    lines++;
  }
  if (seen.some((s) => s === 0)) {
    // Which ones, and whether the job said it was done: a lost result and a task
    // counted twice read differently.
    const missing = [];
    seen.forEach((s, i) => s === 0 && missing.push(i));
    const job = await client.job(id);
    throw new Error(
      `job ${id}: results missing: ${missing.length} of ${count} (first ${missing.slice(0, 5).join(', ')}); ${lines} lines read; job ${job.state}, counts ${JSON.stringify(job.counts)}`,
    );
  }
}

/** Pids of a process's live descendants (a worker's sandbox children), from /proc. */
function descendants(pid) {
  const parent = new Map();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      parent.set(Number(entry), ppid);
    } catch {
      // gone
    }
  }
  const found = [];
  const walk = (p) => {
    for (const [child, pp] of parent)
      if (pp === p) {
        found.push(child);
        walk(child);
      }
  };
  walk(pid);
  return found;
}

const cpuOf = (pids) =>
  pids.reduce((sum, pid) => {
    try {
      return sum + procCpuSeconds(pid);
    } catch {
      return sum;
    }
  }, 0);

/**
 * CPU seconds so far of each process of the run: the master, the worker processes
 * (main and task threads), their sandbox children, and this client. Diagnostics: per
 * record CPU tells where a kind's time goes, far less noisy than rates on a busy box.
 */
function cpuSnapshot(master, workers) {
  const client = process.cpuUsage();
  return {
    master: master.cpu(),
    workers: cpuOf(workers.map((w) => w.pid)),
    sandbox: cpuOf(workers.flatMap((w) => descendants(w.pid))),
    client: (client.user + client.system) / 1e6,
  };
}

const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
};

export async function realInputs({
  tasks,
  rounds,
  timeoutMs = 120_000,
  profileDir,
}) {
  const profile = profileDir ? { profileDir, label: 'inputs' } : {};
  const master = await startMaster({ label: 'inputs', ...profile });
  const workers = [1, 2].map((n) =>
    startWorker(master.url, { threads: 1, name: `inputs-${n}`, ...profile }),
  );
  try {
    await waitForWorkers(master.url, 2);
    const client = new ColonyClient({ url: master.url, token: TOKEN });
    const modules = {
      numbers: await bundleModule(INC),
      records: await bundleModule(RECORD),
    };
    const inputs = { numbers: numbers(tasks), records: records(tasks) };
    const cpu = {};
    const run = async (kind, append = false) => {
      const before = cpuSnapshot(master, workers);
      const result = await runJob(client, {
        module: modules[kind],
        inputs: inputs[kind],
        append,
        timeoutMs,
      });
      const ran = cpuSnapshot(master, workers);
      try {
        await checkResults(client, result.id, tasks, expected[kind]);
      } catch (error) {
        // What the master logged (warnings and errors: a failed commit, say).
        error.message += `\nmaster log: ${master.stderr.text.slice(-1_500)}`;
        throw error;
      }
      const checked = cpuSnapshot(master, workers);
      // Microseconds of CPU per task in each process: the job (submit to done, what
      // the rate measures), then reading its results back (`read`).
      const key = append ? `${kind}Appended` : kind;
      const perTask = (a, b) =>
        Object.fromEntries(
          Object.keys(a).map((p) => [p, ((b[p] - a[p]) / tasks) * 1e6]),
        );
      (cpu[key] ??= []).push(perTask(before, ran));
      (cpu[`${key}Read`] ??= []).push(perTask(ran, checked));
      return result.perSecond;
    };
    // The first job of the fresh master: nothing has run before it.
    const first = await run('numbers');
    for (const key of Object.keys(cpu)) delete cpu[key];
    const runs = {
      numbers: [],
      records: [],
      appended: [],
      recordsAppended: [],
    };
    for (let round = 0; round < rounds; round++) {
      runs.numbers.push(await run('numbers'));
      runs.records.push(await run('records'));
      runs.appended.push(await run('numbers', true));
      runs.recordsAppended.push(await run('records', true));
    }
    const warm = runs.numbers[0];
    const m = Object.fromEntries(
      Object.entries(runs).map(([kind, rates]) => [kind, median(rates)]),
    );
    return {
      tasks,
      rounds,
      first,
      warm,
      firstRatio: first / warm,
      numbers: m.numbers,
      records: m.records,
      recordsRatio: m.records / m.numbers,
      appended: m.appended,
      appendedRatio: m.appended / m.numbers,
      recordsAppended: m.recordsAppended,
      recordsAppendedRatio: m.recordsAppended / m.numbers,
      cpuMicrosPerTask: Object.fromEntries(
        Object.entries(cpu).map(([kind, list]) => [
          kind,
          Object.fromEntries(
            Object.keys(list[0]).map((p) => [
              p,
              Number(median(list.map((c) => c[p])).toFixed(2)),
            ]),
          ),
        ]),
      ),
      runs,
    };
  } finally {
    await Promise.all(workers.map((w) => w.stop()));
    await master.stop();
  }
}

/**
 * Resolves with `cpu()` once it has grown by less than 20 ms over 3 polls 100 ms apart
 * (the processes idle), or after 15 s.
 */
async function settled(cpu) {
  const deadline = Date.now() + 15_000;
  let last = cpu();
  let quiet = 0;
  while (quiet < 3 && Date.now() < deadline) {
    await sleep(100);
    const now = cpu();
    quiet = now - last < 0.02 ? quiet + 1 : 0;
    last = now;
  }
  return last;
}

/**
 * The first job of a fresh master against the next one, over `rounds` fresh masters
 * (each with its own 2 fresh workers): one first job per master is all there is, so
 * robustness comes from rounds. Each round's ratio compares two jobs run back to
 * back under the same load. `window` fixes the workers' credit window (`--window`), to
 * tell the window's ramp from the other cold costs.
 */
export async function coldStart({
  tasks,
  rounds,
  timeoutMs = 120_000,
  sandbox,
  window,
}) {
  const runs = [];
  for (let round = 0; round < rounds; round++) {
    const master = await startMaster({ label: `cold-${round}` });
    const workers = [1, 2].map((n) =>
      startWorker(master.url, {
        threads: 1,
        name: `cold-${round}-${n}`,
        ...(sandbox ? { sandbox } : {}),
        ...(window ? { window } : {}),
      }),
    );
    try {
      await waitForWorkers(master.url, 2);
      const client = new ColonyClient({ url: master.url, token: TOKEN });
      const module = await bundleModule(INC);
      // CPU of the master and the workers (with their sandboxes) during a job: a
      // figure the machine's load hardly moves, unlike the rate.
      const cpu = () =>
        [master, ...workers].reduce((s, p) => s + procTreeCpuSeconds(p.pid), 0);
      // Per process (each worker with its sandbox child): which one pays the cold cost.
      const parts = () => ({
        master: procTreeCpuSeconds(master.pid),
        workers: workers.reduce((s, p) => s + procTreeCpuSeconds(p.pid), 0),
        workerMains: workers.reduce((s, p) => s + procCpuSeconds(p.pid), 0),
      });
      // The first job, not the start: wait until the processes have booted (and
      // warmed up), as they have by the time a user sends a job. On a loaded machine
      // a boot still under way would otherwise be counted in the first job.
      const bootCpu = await settled(cpu);
      const job = async () => {
        const before = parts();
        const result = await runJob(client, {
          module,
          inputs: numbers(tasks),
          timeoutMs,
        });
        const after = parts();
        const masterCpu = after.master - before.master;
        const workerCpu = after.workers - before.workers;
        const workerMains = after.workerMains - before.workerMains;
        await checkResults(client, result.id, tasks, expected.numbers);
        return {
          perSecond: result.perSecond,
          cpuSeconds: masterCpu + workerCpu,
          master: masterCpu,
          workers: workerCpu,
          workerMains,
        };
      };
      const first = await job();
      const next = await job();
      runs.push({
        first: first.perSecond,
        next: next.perSecond,
        ratio: first.perSecond / next.perSecond,
        cpuFirst: first.cpuSeconds,
        cpuNext: next.cpuSeconds,
        cpuMaster: [first.master, next.master],
        cpuWorkers: [first.workers, next.workers],
        cpuWorkerMains: [first.workerMains, next.workerMains],
        bootCpu,
      });
    } finally {
      await Promise.all(workers.map((w) => w.stop()));
      await master.stop();
    }
  }
  const ratios = runs.map((r) => r.ratio);
  return {
    tasks,
    rounds,
    first: median(runs.map((r) => r.first)),
    next: median(runs.map((r) => r.next)),
    ratio: median(ratios),
    worst: Math.min(...ratios),
    cpuFirst: median(runs.map((r) => r.cpuFirst)),
    cpuNext: median(runs.map((r) => r.cpuNext)),
    cpuMaster: [0, 1].map((i) => median(runs.map((r) => r.cpuMaster[i]))),
    cpuWorkers: [0, 1].map((i) => median(runs.map((r) => r.cpuWorkers[i]))),
    cpuWorkerMains: [0, 1].map((i) =>
      median(runs.map((r) => r.cpuWorkerMains[i])),
    ),
    bootCpu: median(runs.map((r) => r.bootCpu)),
    runs,
  };
}
