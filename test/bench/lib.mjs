// Shared parts of the benchmark suite: child processes (tracked, so that every one is
// killed at the end, on failure and on SIGINT), the master and its workers as real CLI
// processes, /proc readings, /metrics scraping and small statistics.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, readdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';

export { sleep };

export const BENCH_DIR = path.dirname(fileURLToPath(import.meta.url));
export const ROOT = path.resolve(BENCH_DIR, '../..');
export const CLI = path.join(ROOT, 'bin/colony.mjs');
export const TOKEN = 'bench-token-0123456789';

/** Every child process started by the bench, until it exits. */
const children = new Set();
const tempDirs = new Set();

export function tempDir(prefix = 'colony-bench-') {
  const dir = mkdtempSync(path.join(os.tmpdir(), prefix));
  tempDirs.add(dir);
  return dir;
}

/**
 * Spawns a tracked child. `nofile` lowers its open-file limit (through `sh -c ulimit`,
 * with `exec`, so that the pid is the node process itself).
 */
export function spawnTracked(command, args, options = {}) {
  const { nofile, cpu, ...rest } = options;
  if (cpu !== undefined) {
    // Pinned to one core (taskset execs: the pid stays the program's).
    args = ['-c', String(cpu), command, ...args];
    command = 'taskset';
  }
  let child;
  if (nofile) {
    const quoted = [command, ...args]
      .map((a) => `'${String(a).replaceAll("'", "'\\''")}'`)
      .join(' ');
    child = spawn('sh', ['-c', `ulimit -n ${nofile} && exec ${quoted}`], {
      stdio: ['ignore', 'pipe', 'pipe'],
      ...rest,
    });
  } else {
    child = spawn(command, args, {
      stdio: ['ignore', 'pipe', 'pipe'],
      ...rest,
    });
  }
  children.add(child);
  child.exited = new Promise((resolve) =>
    child.once('exit', (code, signal) => {
      children.delete(child);
      resolve({ code, signal });
    }),
  );
  return child;
}

/** Stops a child: `signal`, then SIGKILL after `graceMs`. Resolves once it exited. */
export async function stopChild(child, signal = 'SIGTERM', graceMs = 5_000) {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill(signal);
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await child.exited;
  clearTimeout(timer);
}

/** Kills every child still running (SIGKILL: used on failure and at exit). */
export function killAll() {
  for (const child of children) {
    try {
      child.kill('SIGKILL');
    } catch {
      // already gone
    }
  }
  children.clear();
}

export function removeTempDirs() {
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
  tempDirs.clear();
}

/** Keeps the last `max` characters a stream printed (for error messages). */
function tail(stream, max = 4_000) {
  const kept = { text: '' };
  stream?.setEncoding('utf8');
  stream?.on('data', (chunk) => {
    kept.text = (kept.text + chunk).slice(-max);
  });
  return kept;
}

/** Resolves with the first match of `pattern` in the child's stdout. */
function waitForLine(child, pattern, timeoutMs, what) {
  return new Promise((resolve, reject) => {
    let seen = '';
    const timer = setTimeout(() => {
      cleanup();
      reject(new Error(`${what}: no ${pattern} within ${timeoutMs} ms`));
    }, timeoutMs);
    const onData = (chunk) => {
      seen += chunk;
      const match = pattern.exec(seen);
      if (match) {
        cleanup();
        resolve(match);
      }
    };
    const onExit = (code) => {
      cleanup();
      reject(new Error(`${what} exited (${code}) before ${pattern}`));
    };
    const cleanup = () => {
      clearTimeout(timer);
      child.stdout.off('data', onData);
      child.off('exit', onExit);
    };
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', onData);
    child.once('exit', onExit);
  });
}

// ---------------------------------------------------------------- /proc

/** VmRSS and VmHWM (peak) of a process, in bytes. */
export function procMemory(pid) {
  const text = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (key) => Number(new RegExp(`${key}:\\s+(\\d+)`).exec(text)?.[1]);
  return { rss: kb('VmRSS') * 1024, hwm: kb('VmHWM') * 1024 };
}

/** CPU seconds (user + system) a process has used. */
export function procCpuSeconds(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = Number(fields[11]) + Number(fields[12]);
  return ticks / 100; // CLK_TCK is 100 on Linux
}

/** CPU seconds of a process and every descendant (a worker's sandbox child too). */
export function procTreeCpuSeconds(pid) {
  let total = 0;
  try {
    total += procCpuSeconds(pid);
    for (const task of readdirSync(`/proc/${pid}/task`)) {
      const children = readFileSync(
        `/proc/${pid}/task/${task}/children`,
        'utf8',
      ).trim();
      if (children)
        for (const child of children.split(/\s+/))
          total += procTreeCpuSeconds(Number(child));
    }
  } catch {
    // the process ended meanwhile
  }
  return total;
}

export function openFds(pid) {
  try {
    return readdirSync(`/proc/${pid}/fd`).length;
  } catch {
    return NaN;
  }
}

/** Samples a process's RSS every `everyMs`; `stop()` returns the peak and samples. */
export function sampleRss(pid, everyMs = 200) {
  let peak = 0;
  let samples = 0;
  const timer = setInterval(() => {
    try {
      const { rss } = procMemory(pid);
      peak = Math.max(peak, rss);
      samples++;
    } catch {
      // the process ended
    }
  }, everyMs);
  return {
    stop() {
      clearInterval(timer);
      return { peak, samples };
    },
  };
}

// ---------------------------------------------------------------- statistics

export function percentile(sorted, p) {
  if (sorted.length === 0) return NaN;
  const rank = Math.min(
    sorted.length - 1,
    Math.max(0, Math.ceil((p / 100) * sorted.length) - 1),
  );
  return sorted[rank];
}

export function summarize(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const sum = sorted.reduce((a, b) => a + b, 0);
  return {
    n: sorted.length,
    mean: sum / sorted.length,
    p50: percentile(sorted, 50),
    p90: percentile(sorted, 90),
    p99: percentile(sorted, 99),
    max: sorted[sorted.length - 1],
  };
}

// ---------------------------------------------------------------- the master

/**
 * Starts `colony master` as a child process on a free port.
 * @returns {Promise<Master>}
 */
export async function startMaster(options = {}) {
  const dataDir = options.dataDir ?? tempDir('colony-bench-data-');
  const nodeArgs = [];
  if (options.profileDir) {
    nodeArgs.push(
      '--cpu-prof',
      '--cpu-prof-dir',
      path.join(options.profileDir, `master-${options.label ?? 'run'}`),
    );
  }
  const args = [
    ...nodeArgs,
    CLI,
    'master',
    '--port',
    '0',
    '--data',
    dataDir,
    '--token',
    TOKEN,
    '--log-level',
    options.logLevel ?? 'warn',
  ];
  // Every bench client connects from loopback: one address standing for thousands of
  // volunteers, so the per-address caps are lifted (as an operator would for a lab),
  // unless the scenario is about strangers (the defaults then).
  if (!options.defaultCaps)
    args.push(
      '--max-connections-per-address',
      '1000000',
      '--max-handshakes-per-address',
      '1000000',
    );
  if (options.handshakeMs)
    args.push('--handshake-ms', String(options.handshakeMs));
  if (options.store) args.push('--store', options.store);
  if (options.fsync) args.push('--fsync', options.fsync);
  if (options.heartbeatMs)
    args.push('--heartbeat-ms', String(options.heartbeatMs));
  const child = spawnTracked(process.execPath, args, {
    cwd: ROOT,
    ...(options.nofile ? { nofile: options.nofile } : {}),
    ...(options.cpu !== undefined ? { cpu: options.cpu } : {}),
  });
  const stderr = tail(child.stderr);
  let match;
  try {
    match = await waitForLine(
      child,
      /dashboard: (http:\/\/[^\s/]+)\//,
      20_000,
      'master',
    );
  } catch (error) {
    throw new Error(`${error.message}\n${stderr.text}`);
  }
  const url = match[1];
  const master = {
    url,
    wsUrl: `${url.replace(/^http/, 'ws')}/ws`,
    token: TOKEN,
    pid: child.pid,
    child,
    dataDir,
    stderr,
    memory: () => procMemory(child.pid),
    cpu: () => procCpuSeconds(child.pid),
    fds: () => openFds(child.pid),
    metrics: () => scrapeMetrics(url),
    async stop() {
      // SIGINT: a graceful close, so that a --cpu-prof profile is written.
      await stopChild(child, 'SIGINT', 15_000);
    },
  };
  // Starts the master's event-loop delay window.
  await master.metrics();
  return master;
}

/** GET /metrics as {name or name{labels}: value}. */
export async function scrapeMetrics(url) {
  const response = await fetch(`${url}/metrics`);
  const text = await response.text();
  const values = {};
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const space = line.lastIndexOf(' ');
    values[line.slice(0, space)] = Number(line.slice(space + 1));
  }
  return values;
}

/** Polls /healthz until `count` workers are connected. */
export async function waitForWorkers(url, count, timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const response = await fetch(`${url}/healthz`);
      const body = await response.json();
      if (body.workers >= count) return body.workers;
    } catch {
      // not up yet
    }
    if (Date.now() > deadline)
      throw new Error(`fewer than ${count} workers after ${timeoutMs} ms`);
    await sleep(50);
  }
}

/** Starts `colony worker` as a child process. */
export function startWorker(url, options = {}) {
  const args = [CLI, 'worker', url, '--log-level', 'warn'];
  if (options.profileDir) {
    // One directory per worker: its main thread and task threads each write one.
    args.unshift(
      '--cpu-prof',
      '--cpu-prof-dir',
      path.join(
        options.profileDir,
        `worker-${options.label ?? 'run'}-${options.name ?? 'w'}`,
      ),
    );
  }
  args.push('--threads', String(options.threads ?? 1));
  if (options.window) args.push('--window', String(options.window));
  if (options.name) args.push('--name', options.name);
  if (options.sandbox) args.push('--sandbox', options.sandbox);
  const child = spawnTracked(process.execPath, args, { cwd: ROOT });
  const stderr = tail(child.stderr);
  return {
    child,
    pid: child.pid,
    stderr,
    cpu: () => procCpuSeconds(child.pid),
    stop: () => stopChild(child, 'SIGTERM', 5_000),
  };
}

/**
 * Runs a bench helper script (test/bench/*.mjs) as a child; it prints progress lines
 * and ends with one JSON line: its result.
 */
export function runScript(script, args = [], options = {}) {
  const child = spawnTracked(
    process.execPath,
    [...(options.nodeArgs ?? []), path.join(BENCH_DIR, script), ...args],
    {
      cwd: ROOT,
      ...(options.nofile ? { nofile: options.nofile } : {}),
      ...(options.cpu !== undefined ? { cpu: options.cpu } : {}),
      ...(options.stdin ? { stdio: ['pipe', 'pipe', 'pipe'] } : {}),
    },
  );
  return attachScript(child, script, options);
}

function attachScript(child, script, options) {
  const stderr = tail(child.stderr);
  const lines = [];
  const listeners = new Set();
  let buffered = '';
  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (chunk) => {
    buffered += chunk;
    let newline;
    while ((newline = buffered.indexOf('\n')) >= 0) {
      const line = buffered.slice(0, newline);
      buffered = buffered.slice(newline + 1);
      if (!line.trim()) continue;
      let value;
      try {
        value = JSON.parse(line);
      } catch {
        value = { text: line };
      }
      lines.push(value);
      for (const listener of listeners) listener(value);
    }
  });
  const timeoutMs = options.timeoutMs ?? 120_000;
  const done = (async () => {
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    const { code, signal } = await child.exited;
    clearTimeout(timer);
    const last = lines.at(-1);
    if (code !== 0 || !last || last.text !== undefined) {
      throw new Error(
        `${script} failed (code ${code}, signal ${signal}):\n${stderr.text}\n${lines
          .slice(-5)
          .map((l) => JSON.stringify(l))
          .join('\n')}`,
      );
    }
    return last;
  })();
  return {
    child,
    pid: child.pid,
    done,
    /** Resolves with the first line for which `test(line)` holds. */
    waitFor(test, waitMs = timeoutMs) {
      const seen = lines.find(test);
      if (seen) return Promise.resolve(seen);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          listeners.delete(listener);
          reject(new Error(`${script}: no expected line in ${waitMs} ms`));
        }, waitMs);
        const listener = (line) => {
          if (test(line)) {
            clearTimeout(timer);
            listeners.delete(listener);
            resolve(line);
          }
        };
        listeners.add(listener);
        void done.catch((error) => {
          clearTimeout(timer);
          listeners.delete(listener);
          reject(error);
        });
      });
    },
    send(message) {
      child.stdin.write(`${JSON.stringify(message)}\n`);
    },
  };
}

/** Reads JSON-line commands on stdin (for helper scripts). */
export function onCommands(handler) {
  let buffered = '';
  process.stdin.setEncoding('utf8');
  process.stdin.on('data', (chunk) => {
    buffered += chunk;
    let newline;
    while ((newline = buffered.indexOf('\n')) >= 0) {
      const line = buffered.slice(0, newline);
      buffered = buffered.slice(newline + 1);
      if (line.trim()) handler(JSON.parse(line));
    }
  });
}

/** A helper script's output: one JSON line. */
export function emit(value) {
  process.stdout.write(`${JSON.stringify(value)}\n`);
}

// ---------------------------------------------------------------- the dashboard feed

/**
 * Subscribes to the dashboard feed with a raw `watch` socket and counts what arrives:
 * deltas, their bytes, and the largest one. `reset()` starts a new window.
 */
export async function watchFeed(WebSocket, wsUrl) {
  const socket = new WebSocket(wsUrl, { perMessageDeflate: false });
  const stats = {
    snapshots: 0,
    deltas: 0,
    bytes: 0,
    maxBytes: 0,
    since: performance.now(),
  };
  socket.on('message', (data) => {
    const text = data.toString();
    if (text.startsWith('{"type":"delta"')) {
      stats.deltas++;
      stats.bytes += text.length;
      stats.maxBytes = Math.max(stats.maxBytes, text.length);
    } else if (text.startsWith('{"type":"snapshot"')) {
      stats.snapshots++;
    }
  });
  socket.on('error', () => undefined);
  await new Promise((resolve, reject) => {
    socket.once('open', resolve);
    socket.once('error', reject);
  });
  socket.send(JSON.stringify({ type: 'watch', protocol: 3 }));
  return {
    reset() {
      Object.assign(stats, {
        deltas: 0,
        bytes: 0,
        maxBytes: 0,
        since: performance.now(),
      });
    },
    read() {
      const seconds = (performance.now() - stats.since) / 1000;
      return {
        seconds,
        deltas: stats.deltas,
        deltasPerSecond: stats.deltas / seconds,
        bytesPerSecond: stats.bytes / seconds,
        bytesPerDelta: stats.deltas ? stats.bytes / stats.deltas : 0,
        maxDeltaBytes: stats.maxBytes,
        open: socket.readyState === WebSocket.OPEN,
      };
    },
    close() {
      socket.terminate();
    },
  };
}

/** Polls a job until it ends or `timeoutMs` passes (then cancels it). */
export async function waitForJob(client, id, timeoutMs, everyMs = 100) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const job = await client.job(id);
    if (job.state !== 'running') return { job, timedOut: false };
    if (Date.now() > deadline) {
      const cancelled = await client.cancel(id).catch(() => job);
      return { job: cancelled, timedOut: true, at: Date.now() };
    }
    await sleep(everyMs);
  }
}
