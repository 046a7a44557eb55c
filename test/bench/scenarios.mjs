// The scenarios of `npm run bench`, each against real processes: the master and its
// workers are CLI child processes, the measuring clients run in child processes too
// (so that the bench's own work does not disturb them). Each returns plain figures.
import {
  createReadStream,
  createWriteStream,
  readFileSync,
  readdirSync,
} from 'node:fs';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import net from 'node:net';
import path from 'node:path';
import { createInterface } from 'node:readline';
import WebSocket from 'ws';
import { ColonyClient, bundleModule } from '../../dist/client.js';
import {
  machineBusySeconds,
  minorFaults,
  pageFaultUs,
  speedProbe,
  syscallUs,
  writtenBytes,
} from './machine.mjs';
import {
  BENCH_DIR,
  CLI,
  ROOT,
  TOKEN,
  procCpuSeconds,
  procMemory,
  runScript,
  sampleRss,
  sleep,
  spawnTracked,
  startMaster,
  startWorker,
  stopChild,
  tempDir,
  waitForJob,
  waitForWorkers,
  watchFeed,
} from './lib.mjs';

const INC = path.join(BENCH_DIR, 'tasks/inc.mjs');
const ECHO = path.join(BENCH_DIR, 'tasks/echo.mjs');
const RECORD = path.join(BENCH_DIR, 'tasks/record.mjs');
const range = (n) => Array.from({ length: n }, (_, i) => i);

/** Runs `body(master, ...)` and always stops what it started. */
async function withMaster(options, body) {
  const master = await startMaster(options);
  try {
    return await body(master);
  } finally {
    await master.stop();
  }
}

// ---------------------------------------------------------------- baselines

/** Bare `ws`: round trips with one request in flight, and pipelined requests/s. */
export async function bareWs({ rttCount, pipelineMs }) {
  const server = await runScript('ws-server.mjs', [], { timeoutMs: 600_000 });
  try {
    const { port } = await server.waitFor((line) => line.port, 10_000);
    const url = `ws://127.0.0.1:${port}/ws`;
    const rtt = await runScript('ws-client.mjs', ['rtt', url, rttCount]).done;
    const pipelined = await runScript('ws-client.mjs', [
      'pipelined',
      url,
      pipelineMs,
      1_000,
    ]).done;
    return { rtt, pipelined };
  } finally {
    await stopChild(server.child);
  }
}

/** piscina with 2 threads running x => x + 1, one thread hop per task. */
export async function piscina({ tasks }) {
  return runScript('piscina-baseline.mjs', [tasks, 2]).done;
}

// ---------------------------------------------------------------- throughput

/** fast-worker.mjs: a raw worker answering inline (the master's ceiling). */
function rawWorker(wsUrl, window) {
  const script = runScript('fast-worker.mjs', [wsUrl, window], {
    timeoutMs: 600_000,
  });
  return {
    pid: script.pid,
    cpu: () => procCpuSeconds(script.pid),
    stop: () => stopChild(script.child, 'SIGTERM', 5_000),
  };
}

/**
 * Trivial tasks end to end: submit N inputs (one POST) → 2 Node workers → results
 * committed. `window` 1 is credit 1 (one task at a time per worker).
 */
export async function throughput(options) {
  const {
    tasks,
    store,
    fsync,
    window,
    threads = 1,
    timeoutMs,
    label,
    profileDir,
  } = options;
  return withMaster(
    {
      label,
      ...(store ? { store } : {}),
      ...(fsync ? { fsync } : {}),
      ...(profileDir ? { profileDir } : {}),
    },
    async (master) => {
      const workers = [1, 2].map((n) =>
        options.raw
          ? rawWorker(master.wsUrl, window ?? 4_096)
          : startWorker(master.url, {
              threads,
              name: `bench-${n}`,
              ...(window ? { window } : {}),
              ...(options.sandbox ? { sandbox: options.sandbox } : {}),
              ...(profileDir ? { profileDir, label } : {}),
            }),
      );
      try {
        await waitForWorkers(master.url, 2);
        const client = new ColonyClient({ url: master.url, token: TOKEN });
        // `objects`: records of ~130 bytes (JSON) in, small records out, instead of numbers.
        const module = await bundleModule(options.objects ? RECORD : INC);
        const makeInputs = (n) =>
          options.objects
            ? Array.from({ length: n }, (_, i) => ({
                id: `task-${i}`,
                x: i,
                text: 'lorem ipsum dolor sit amet '.repeat(4),
              }))
            : range(n);
        const feed = await watchFeed(WebSocket, master.wsUrl);
        // Warm-up: threads load the module, the JIT settles, the window adapts.
        const warm = await client.submit({
          name: 'warm-up',
          module,
          inputs: makeInputs(Math.min(tasks, window === 1 ? 2_000 : 20_000)),
        });
        await waitForJob(client, warm.id, 60_000);

        const inputs = makeInputs(tasks);
        const rss = sampleRss(master.pid, 200);
        const cpu0 = master.cpu();
        const workerCpu0 = workers.map((w) => w.cpu());
        const treeCpu0 = workers.map((w) => treeCpuSeconds(w.pid));
        const faultUs = pageFaultUs();
        const callUs = syscallUs();
        const machine0 = machineBusySeconds();
        const written0 = writtenBytes(master.pid);
        const faults0 = [master, ...workers].map((p) => minorFaults(p.pid));
        const probe = speedProbe();
        const bench0 = process.cpuUsage();
        const m0 = await master.metrics(); // also: a new event-loop window
        feed.reset();
        const started = Date.now();
        const startedNs = process.hrtime.bigint();
        const { id } = await client.submit({
          name: 'throughput',
          module,
          inputs,
        });
        const submitted = Date.now();
        const submittedNs = process.hrtime.bigint();
        const { job, timedOut, at } = await waitForJob(
          client,
          id,
          timeoutMs,
          25,
        );
        const ended = timedOut ? at : (job.finishedAt ?? Date.now());
        const machineBusy = machineBusySeconds() - machine0;
        const written = writtenBytes(master.pid) - written0;
        const faults = [master, ...workers].map(
          (p, i) => minorFaults(p.pid) - faults0[i],
        );
        const benchCpu = process.cpuUsage(bench0);
        const speed = probe.stop();
        const metrics = await master.metrics();
        const seconds = (ended - started) / 1000;
        const masterCpuSeconds = master.cpu() - cpu0;
        const treeCpu = workers.reduce(
          (sum, w, i) => sum + treeCpuSeconds(w.pid) - treeCpu0[i],
          0,
        );
        const result = {
          label,
          tasks,
          done: job.counts.done,
          failed: job.counts.failed,
          timedOut,
          seconds,
          submitSeconds: (submitted - started) / 1000,
          tasksPerSecond: job.counts.done / seconds,
          runTasksPerSecond: job.counts.done / ((ended - submitted) / 1000),
          masterCpu: masterCpuSeconds / seconds,
          masterUsPerTask: (masterCpuSeconds * 1e6) / job.counts.done,
          workerCpu: workers.map((w, i) => (w.cpu() - workerCpu0[i]) / seconds),
          // Whole process trees (a sandboxed worker's child too), per task done.
          workerTreeUsPerTask: (treeCpu * 1e6) / job.counts.done,
          // Bytes the master sent to storage (its WAL, the checkpoints into the file).
          masterWrittenMB: written / 1e6,
          // Pages first touched (minor faults) by the master and by each worker.
          masterFaults: faults[0],
          workerFaults: faults.slice(1),
          // The machine's speed meanwhile: ms of CPU and of wall time that a fixed piece
          // of work took in the bench (medians). Its CPU time grows when the machine
          // under this one runs slower (a busy host or sibling core), not with processes
          // here taking turns (those show in otherCores and in its wall time).
          probeCpuMs: speed.cpuMs,
          probeWallMs: speed.wallMs,
          // CPU µs a first touched page cost just before the job (machine.mjs).
          pageFaultUs: faultUs,
          // CPU µs of a cheap system call just before the job (machine.mjs).
          syscallUs: callUs,
          // Cores the bench process itself (client, polls, feed) kept busy.
          benchCores: (benchCpu.user + benchCpu.system) / 1e6 / seconds,
          // Cores busy with anything else meanwhile (other processes on the machine):
          // the machine's busy time less the master's, the workers' and the bench's.
          otherCores:
            (machineBusy -
              masterCpuSeconds -
              treeCpu -
              (benchCpu.user + benchCpu.system) / 1e6) /
            seconds,
          masterPeakRss: rss.stop().peak,
          lagP99Ms: metrics.nodejs_eventloop_lag_p99_seconds * 1000,
          framesIn:
            metrics.colony_ws_frames_received_total -
            m0.colony_ws_frames_received_total,
          framesOut:
            metrics.colony_ws_frames_sent_total -
            m0.colony_ws_frames_sent_total,
          feed: feed.read(),
          // The job's span on the monotonic clock (µs), that of a --cpu-prof profile:
          // to cut the master's profile to the submit and the run.
          clockUs: {
            started: Number(startedNs / 1000n),
            submitted: Number(submittedNs / 1000n),
            ended: Number(startedNs / 1000n) + (ended - started) * 1000,
          },
        };
        feed.close();
        return result;
      } finally {
        await Promise.all(workers.map((w) => w.stop()));
      }
    },
  );
}

/** Pids of a process's children (all its threads'). */
function childPids(pid) {
  const pids = [];
  try {
    for (const tid of readdirSync(`/proc/${pid}/task`)) {
      const text = readFileSync(`/proc/${pid}/task/${tid}/children`, 'utf8');
      for (const child of text.trim().split(' ')) if (child) pids.push(child);
    }
  } catch {
    // gone
  }
  return pids;
}

/** CPU seconds of a process and all its descendants (a worker's sandbox child). */
function treeCpuSeconds(pid) {
  let total = 0;
  try {
    total = procCpuSeconds(pid);
  } catch {
    return 0;
  }
  for (const child of childPids(pid)) total += treeCpuSeconds(child);
  return total;
}

/**
 * The cost of the worker's sandbox: the batched throughput run with `--sandbox none`
 * and with the sandboxed modes, interleaved over `rounds` so that each sees the same
 * (noisy, shared) machine. Figures: median tasks/s per mode and the ratio to none.
 */
export async function sandboxCost({ tasks, rounds, modes, timeoutMs }) {
  const runs = Object.fromEntries(['none', ...modes].map((m) => [m, []]));
  // CPU per task of the workers' process trees: far less sensitive to load than rates.
  const cpu = Object.fromEntries(['none', ...modes].map((m) => [m, []]));
  for (let round = 0; round < rounds; round++) {
    for (const sandbox of Object.keys(runs)) {
      const result = await throughput({
        label: `sandbox-${sandbox}`,
        tasks,
        timeoutMs,
        sandbox,
        store: 'memory',
      });
      if (result.timedOut || result.done !== tasks)
        throw new Error(`--sandbox ${sandbox}: ${result.done}/${tasks} done`);
      runs[sandbox].push(result.runTasksPerSecond);
      cpu[sandbox].push(result.workerTreeUsPerTask);
    }
  }
  const median = (values) => {
    const sorted = [...values].sort((a, b) => a - b);
    const mid = Math.floor(sorted.length / 2);
    return sorted.length % 2
      ? sorted[mid]
      : (sorted[mid - 1] + sorted[mid]) / 2;
  };
  const figures = { runs, median: {}, ratio: {}, workerUsPerTask: {} };
  for (const [mode, values] of Object.entries(runs))
    figures.median[mode] = median(values);
  for (const [mode, values] of Object.entries(cpu))
    figures.workerUsPerTask[mode] = median(values);
  for (const mode of modes)
    figures.ratio[mode] = figures.median[mode] / figures.median.none;
  return figures;
}

// ---------------------------------------------------------------- reassignment

export async function reassignment({ trials }) {
  return withMaster({ label: 'reassign' }, async (master) => {
    const terminate = await runScript('reassign-client.mjs', [
      master.url,
      TOKEN,
      trials,
      'terminate',
    ]).done;
    const close = await runScript('reassign-client.mjs', [
      master.url,
      TOKEN,
      trials,
      'close',
    ]).done;
    return { terminate, close };
  });
}

// ---------------------------------------------------------------- connections

/**
 * Idle `hello`'d workers from a separate process, heartbeat every second: master RSS
 * per connection, event-loop lag, dashboard deltas; then connections past the cap.
 * The same count against a bare `ws` server gives the baseline memory per connection.
 */
export async function connections({ count, extra, holdMs, profileDir }) {
  const colony = await withMaster(
    {
      heartbeatMs: 1_000,
      label: 'connections',
      ...(profileDir ? { profileDir } : {}),
    },
    async (master) => {
      const feed = await watchFeed(WebSocket, master.wsUrl);
      await sleep(1_500);
      const idleFeed = feed.read();
      const before = master.memory().rss;
      const heapBefore = (await master.metrics()).nodejs_heap_used_bytes;
      const cpu0 = master.cpu();
      const started = performance.now();
      const client = await runScript(
        'conn-client.mjs',
        [master.wsUrl, count, 256],
        { stdin: true, timeoutMs: 600_000 },
      );
      try {
        feed.reset();
        const opened = await client.waitFor(
          (line) => line.phase === 'opened',
          300_000,
        );
        const openFeed = feed.read();
        const openCpu =
          (master.cpu() - cpu0) / ((performance.now() - started) / 1000);
        await sleep(2_000); // joins published, heap settled
        await master.metrics(); // new event-loop window: the hold
        feed.reset();
        const holdCpu0 = master.cpu();
        const rss = sampleRss(master.pid, 250);
        await sleep(holdMs);
        const metrics = await master.metrics();
        const holdFeed = feed.read();
        const holdCpu = (master.cpu() - holdCpu0) / (holdMs / 1000);
        const after = master.memory().rss;
        const fds = master.fds();
        const workers = metrics['colony_workers{kind="node"}'];
        rss.stop();
        // Past the cap: the master must refuse quickly and keep serving the others.
        feed.reset();
        client.send({ cmd: 'extra', count: extra });
        const overflow = await client.waitFor(
          (line) => line.phase === 'extra',
          120_000,
        );
        await sleep(1_000); // the dashboard must still be fed, at the cap
        client.send({ cmd: 'status' });
        const status = await client.waitFor(
          (line) => line.phase === 'status',
          30_000,
        );
        const overflowFeed = feed.read();
        client.send({ cmd: 'close' });
        await client.done;
        // Recovered: a new socket and an HTTP request work again.
        await sleep(1_000);
        const recovered = await master
          .metrics()
          .then((m) => m['colony_workers{kind="node"}'] === 0)
          .catch(() => false);
        feed.close();
        return {
          opened,
          workers,
          openSeconds: opened.ms / 1000,
          rssBefore: before,
          rssAfter: after,
          perConnection: (after - before) / opened.ok,
          heapPerConnection:
            (metrics.nodejs_heap_used_bytes - heapBefore) / opened.ok,
          fds,
          lagP50Ms: metrics.nodejs_eventloop_lag_p50_seconds * 1000,
          lagP99Ms: metrics.nodejs_eventloop_lag_p99_seconds * 1000,
          lagMaxMs: metrics.nodejs_eventloop_lag_max_seconds * 1000,
          heartbeatTimeouts: metrics.colony_ws_heartbeat_timeouts_total,
          openCpu,
          holdCpu,
          idleFeed,
          openFeed,
          holdFeed,
          overflow,
          overflowFeed,
          lostDuringHold: status.lost,
          recovered,
        };
      } finally {
        await stopChild(client.child, 'SIGKILL');
      }
    },
  );

  const server = await runScript('ws-server.mjs', [], { timeoutMs: 600_000 });
  try {
    const { port } = await server.waitFor((line) => line.port, 10_000);
    await sleep(1_000);
    const before = procMemory(server.pid).rss;
    const client = await runScript(
      'conn-client.mjs',
      [`ws://127.0.0.1:${port}/ws?challenge=1`, count, 256],
      { stdin: true, timeoutMs: 600_000 },
    );
    try {
      const opened = await client.waitFor(
        (line) => line.phase === 'opened',
        300_000,
      );
      await sleep(2_000 + holdMs);
      const after = procMemory(server.pid).rss;
      client.send({ cmd: 'close' });
      await client.done;
      return {
        colony,
        bare: {
          opened,
          rssBefore: before,
          rssAfter: after,
          perConnection: (after - before) / opened.ok,
        },
      };
    } finally {
      await stopChild(client.child, 'SIGKILL');
    }
  } finally {
    await stopChild(server.child);
  }
}

/**
 * Out of descriptors: the master under a low open-file limit, more sockets than it can
 * hold. It must refuse the excess quickly (no hang), keep the dashboard live and serve
 * again once sockets close.
 */
export async function descriptorLimit({ nofile, count }) {
  return withMaster({ nofile, label: 'fd-limit' }, async (master) => {
    const feed = await watchFeed(WebSocket, master.wsUrl);
    const client = await runScript(
      'conn-client.mjs',
      [master.wsUrl, count, 64],
      { stdin: true, timeoutMs: 300_000 },
    );
    try {
      feed.reset();
      const opened = await client.waitFor(
        (line) => line.phase === 'opened',
        200_000,
      );
      const fds = master.fds();
      await sleep(1_000);
      const atLimitFeed = feed.read();
      client.send({ cmd: 'close' });
      await client.done;
      await sleep(1_000);
      const metrics = await master.metrics().catch(() => null);
      // A new worker gets in after the others left.
      const after = await runScript('conn-client.mjs', [master.wsUrl, 10, 10], {
        stdin: true,
      });
      const again = await after.waitFor((line) => line.phase === 'opened');
      after.send({ cmd: 'close' });
      await after.done;
      const alive = master.child.exitCode === null;
      feed.close();
      return {
        nofile,
        attempted: count,
        opened,
        fds,
        dashboardDeltasAtLimit: atLimitFeed.deltas,
        dashboardOpen: atLimitFeed.open,
        metricsAfter: metrics !== null,
        reconnected: again.ok,
        alive,
      };
    } finally {
      await stopChild(client.child, 'SIGKILL');
    }
  });
}

// ---------------------------------------------------------------- the 1M-task job

/** `colony submit --wait --out` of a generated `.jsonl`: time, master peak RSS, lines. */
export async function bigJob({ tasks, timeoutMs, profileDir, window }) {
  const dir = tempDir('colony-bench-job-');
  const inputsFile = path.join(dir, 'inputs.jsonl');
  const outFile = path.join(dir, 'results.jsonl');
  const out = createWriteStream(inputsFile);
  for (let i = 0; i < tasks; i += 10_000) {
    const lines = [];
    for (let k = i; k < Math.min(tasks, i + 10_000); k++) lines.push(`${k}\n`);
    if (!out.write(lines.join(''))) await once(out, 'drain');
  }
  out.end();
  await once(out, 'finish');

  return withMaster(
    { label: 'big-job', ...(profileDir ? { profileDir } : {}) },
    async (master) => {
      const workers = [1, 2].map((n) =>
        startWorker(master.url, {
          threads: 1,
          name: `bench-${n}`,
          ...(window ? { window } : {}),
        }),
      );
      try {
        await waitForWorkers(master.url, 2);
        const rssAtStart = master.memory().rss;
        const rss = sampleRss(master.pid, 100);
        // The V8 heap's share of the RSS (the rest: SQLite's cache, buffers, code).
        let peakHeap = 0;
        const heapTimer = setInterval(() => {
          master.metrics().then(
            (m) => {
              peakHeap = Math.max(peakHeap, m.nodejs_heap_used_bytes);
            },
            () => undefined,
          );
        }, 500);
        const started = Date.now();
        const submit = spawnTracked(
          process.execPath,
          [
            CLI,
            'submit',
            INC,
            '--inputs',
            inputsFile,
            '--url',
            master.url,
            '--token',
            TOKEN,
            '--name',
            'big',
            '--wait',
            '--out',
            outFile,
          ],
          { cwd: ROOT },
        );
        let stderr = '';
        submit.stderr.setEncoding('utf8');
        submit.stderr.on('data', (chunk) => {
          stderr = (stderr + chunk).slice(-2_000);
        });
        const timer = setTimeout(() => submit.kill('SIGKILL'), timeoutMs);
        const { code } = await submit.exited;
        clearTimeout(timer);
        const seconds = (Date.now() - started) / 1000;
        clearInterval(heapTimer);
        const sampled = rss.stop();
        const { hwm } = master.memory();
        // Every line there, each x + 1?
        let lines = 0;
        let wrong = 0;
        const seen = new Uint8Array(tasks);
        const reader = createInterface({ input: createReadStream(outFile) });
        for await (const line of reader) {
          lines++;
          const { index, ok, output } = JSON.parse(line);
          if (!ok || output !== index + 1 || seen[index]) wrong++;
          seen[index] = 1;
        }
        return {
          tasks,
          exitCode: code,
          seconds,
          tasksPerSecond: tasks / seconds,
          rssAtStart,
          peakRss: Math.max(sampled.peak, hwm),
          sampledPeakRss: sampled.peak,
          peakHeapUsed: peakHeap,
          lines,
          wrong,
          stderr: code === 0 ? undefined : stderr,
        };
      } finally {
        await Promise.all(workers.map((w) => w.stop()));
      }
    },
  );
}

// ---------------------------------------------------------------- binary

/** A TCP proxy that counts the bytes each way. */
async function countingProxy(port) {
  const counts = { up: 0, down: 0 };
  const server = net.createServer((downstream) => {
    const upstream = net.connect(port, '127.0.0.1');
    downstream.on('data', (chunk) => {
      counts.up += chunk.length;
    });
    upstream.on('data', (chunk) => {
      counts.down += chunk.length;
    });
    downstream.pipe(upstream);
    upstream.pipe(downstream);
    const end = () => {
      downstream.destroy();
      upstream.destroy();
    };
    downstream.on('error', end);
    upstream.on('error', end);
    downstream.on('close', end);
    upstream.on('close', end);
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${server.address().port}`,
    counts,
    reset() {
      counts.up = 0;
      counts.down = 0;
    },
    close() {
      server.close();
    },
  };
}

/** Debian's Chromium, driven by Playwright (as in the e2e tests). */
async function launchChromium() {
  const { chromium } = await import('playwright');
  return chromium.launch({
    executablePath: '/usr/bin/chromium',
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
    ],
  });
}

/**
 * 1 MB Uint8Array in, the same out: bytes on the worker's socket per task. `browser`:
 * the worker is a volunteer tab in Chromium (page and socket through the proxy).
 */
export async function binary({ tasks, browser = false }) {
  const MB = 1024 * 1024;
  return withMaster({ label: 'binary' }, async (master) => {
    const port = Number(new URL(master.url).port);
    const proxy = await countingProxy(port);
    let chromium = null;
    const worker = browser
      ? {
          stop: async () => {
            await chromium?.close();
          },
        }
      : startWorker(proxy.url, { threads: 1 });
    try {
      if (browser) {
        chromium = await launchChromium();
        const page = await chromium.newPage();
        await page.goto(`${proxy.url}/volunteer?autostart=1&threads=1`);
      }
      await waitForWorkers(master.url, 1);
      const client = new ColonyClient({ url: master.url, token: TOKEN });
      const module = await bundleModule(ECHO);
      const warm = await client.submit({
        name: 'warm-up',
        module,
        inputs: [new Uint8Array(16)],
      });
      await waitForJob(client, warm.id, 30_000);
      await sleep(200); // the warm-up's acks are through
      proxy.reset();
      const inputs = range(tasks).map(() => new Uint8Array(randomBytes(MB)));
      const { id } = await client.submit({ name: 'binary', module, inputs });
      const { job } = await waitForJob(client, id, 60_000);
      await sleep(200);
      const { up, down } = proxy.counts;
      let equal = 0;
      for await (const line of client.results(id)) {
        const input = inputs[line.index];
        if (
          line.ok &&
          line.output instanceof Uint8Array &&
          Buffer.compare(Buffer.from(line.output), Buffer.from(input)) === 0
        )
          equal++;
      }
      return {
        worker: browser ? 'browser' : 'node',
        tasks,
        done: job.counts.done,
        equal,
        bytesToWorkerPerTask: down / tasks,
        bytesFromWorkerPerTask: up / tasks,
        ratioIn: down / tasks / MB,
        ratioOut: up / tasks / MB,
      };
    } finally {
      await worker.stop();
      proxy.close();
    }
  });
}
