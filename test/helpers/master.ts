/**
 * Real parts for integration tests: a master on port 0 (in-process or as a child
 * process), Node workers as child processes (so they can be killed), and small
 * conveniences around the client.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { onTestFinished } from 'vitest';
import { bundleModule, ColonyClient } from '../../server/client/index.js';
import type { ResultLine } from '../../shared/job.js';
import {
  startMaster,
  type MasterOptions,
  type RunningMaster,
} from '../../server/master/main.js';
import { assertTestRunning } from './test-running.js';

export const ROOT = path.resolve(import.meta.dirname, '../..');
export const CLI = path.join(ROOT, 'bin/colony.mjs');
export const FIXTURES = path.join(ROOT, 'test/fixtures');

export function tempDir(prefix = 'colony-test-'): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), prefix));
  onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** A master in this process on a free port, closed when the test ends. */
export async function startTestMaster(
  options: MasterOptions = {},
): Promise<RunningMaster & { client: ColonyClient }> {
  assertTestRunning('startTestMaster');
  const master = await startMaster({
    port: 0,
    dataDir: options.dataDir ?? tempDir(),
    token: 'test-token',
    logLevel: 'warn',
    ...options,
  });
  onTestFinished(() => master.close());
  return {
    ...master,
    client: new ColonyClient({ url: master.url, token: master.token }),
  };
}

export interface ChildHandle {
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  /** Resolves with the exit code (or signal) once the process has ended. */
  exited: Promise<number | string>;
}

/** Runs `colony <args>` as a child process; killed (SIGKILL) when the test ends. */
export function spawnColony(
  args: string[],
  env: NodeJS.ProcessEnv = {},
): ChildHandle {
  assertTestRunning(`colony ${args[0] ?? ''}`);
  // Each child gets a config dir of its own: a worker makes its identity there (one
  // volunteer per process), never in the user's own ~/.config.
  const config = mkdtempSync(path.join(os.tmpdir(), 'colony-config-'));
  onTestFinished(() => rmSync(config, { recursive: true, force: true }));
  const child = spawn(process.execPath, [CLI, ...args], {
    cwd: ROOT,
    env: {
      ...process.env,
      COLONY_LOG_LEVEL: 'warn',
      XDG_CONFIG_HOME: config,
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout?.on('data', (chunk: Buffer) => (out += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (err += chunk.toString()));
  const exited = new Promise<number | string>((resolve) =>
    child.on('exit', (code, signal) => resolve(code ?? signal ?? 'unknown')),
  );
  onTestFinished(() => {
    if (child.exitCode === null && child.signalCode === null)
      child.kill('SIGKILL');
  });
  return { child, stdout: () => out, stderr: () => err, exited };
}

/** A `colony worker` child process. */
export function spawnWorker(
  url: string,
  threads = 1,
  extra: string[] = [],
): ChildHandle {
  return spawnColony(['worker', url, '--threads', String(threads), ...extra]);
}

/** Resolves when `predicate(stdout)` (or stderr) holds, or rejects when the process exits first. */
export function waitForOutput(
  handle: ChildHandle,
  predicate: (text: string) => boolean,
  stream: 'stdout' | 'stderr' = 'stdout',
): Promise<string> {
  const text = stream === 'stdout' ? handle.stdout : handle.stderr;
  const source = handle.child[stream];
  return new Promise((resolve, reject) => {
    const check = () => {
      if (predicate(text())) {
        source?.off('data', check);
        resolve(text());
      }
    };
    source?.on('data', check);
    void handle.exited.then((code) =>
      reject(
        new Error(
          `process exited (${code}) before the expected output; stderr: ${handle.stderr()}`,
        ),
      ),
    );
    check();
  });
}

/** A master as a child process (so it can be killed); resolves with its URL. */
export async function spawnMaster(
  dataDir: string,
  extra: string[] = [],
): Promise<ChildHandle & { url: string }> {
  const handle = spawnColony([
    'master',
    '--port',
    '0',
    '--data',
    dataDir,
    '--token',
    'test-token-0123456789',
    ...extra,
  ]);
  const text = await waitForOutput(handle, (out) =>
    /dashboard: (\S+)\//.test(out),
  );
  const url = /dashboard: (\S+)\//.exec(text)?.[1] as string;
  return { ...handle, url };
}

export async function fixtureModule(name: string): Promise<string> {
  return bundleModule(path.join(FIXTURES, name));
}

/** Waits for the job to end and returns its results, checking none is recorded twice. */
export async function collectResults(
  client: ColonyClient,
  jobId: string,
): Promise<Map<number, ResultLine>> {
  const results = new Map<number, ResultLine>();
  for await (const line of client.results(jobId, { follow: true })) {
    if (results.has(line.index))
      throw new Error(`task ${line.index} has two results`);
    results.set(line.index, line);
  }
  return results;
}

/** Resolves once at least `count` results of the job are committed. */
export async function waitForResults(
  client: ColonyClient,
  jobId: string,
  count: number,
): Promise<void> {
  let seen = 0;
  for await (const _line of client.results(jobId, { follow: true })) {
    if (++seen >= count) return;
  }
  throw new Error(`the job ended with ${seen} results, fewer than ${count}`);
}

/** A port free right now on loopback, for a master that must come back on the same one. */
export async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
