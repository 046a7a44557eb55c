/**
 * Playwright fixtures for the end-to-end tests: a real master (`colony master` as a
 * child process on a free port, with its own data dir and token), `colony worker`
 * children, volunteer tabs, and the HTTP API calls the tests make.
 */
import {
  test as base,
  expect,
  type BrowserContext,
  type Page,
} from '@playwright/test';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, mkdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { JobSummary, WorkerSummary } from '../../shared/protocol.js';
import type { ResultLine } from '../../shared/job.js';

export const ROOT = path.resolve(import.meta.dirname, '../..');
const CLI = path.join(ROOT, 'bin/colony.mjs');
export const SCREENSHOTS = path.join(ROOT, 'test-results/screenshots');
export const TOKEN = 'e2e-token-0123456789';

/**
 * The task module of most tests: squares `x`, busy for `spinMs` first (so that jobs
 * last long enough to watch), and throws for the inputs listed in `throwFor`.
 */
export const SQUARE_MODULE = `
export default function (input) {
  const { x, spinMs = 0, throwFor = [] } = input;
  if (throwFor.includes(x)) throw new Error('refusing ' + x + ': not a perfect input');
  const until = Date.now() + spinMs;
  while (Date.now() < until) {
    // busy: a CPU-bound task
  }
  return x * x;
}
`;

/**
 * Squares `x` after spinning `spinMs`, calling `ctx.progress` all along (the runner
 * posts it at most every 250 ms): a long task whose progress shows before it ends.
 */
export const PROGRESS_MODULE = `
export default function (input, ctx) {
  const { x, spinMs } = input;
  const start = Date.now();
  for (let now = start; now < start + spinMs; now = Date.now()) {
    ctx.progress((now - start) / spinMs);
  }
  return x * x;
}
`;

export interface SquareInput {
  x: number;
  spinMs?: number;
  throwFor?: number[];
}

export function squareInputs(count: number, spinMs = 0): SquareInput[] {
  return Array.from({ length: count }, (_, x) => ({ x, spinMs }));
}

export interface JobOptions {
  timeoutMs?: number;
  maxAttempts?: number;
  backups?: boolean;
}

export interface Master {
  url: string;
  token: string;
  /** `POST /api/jobs`; resolves with the new job's id. */
  submit(
    name: string,
    inputs: unknown[],
    options?: JobOptions,
    module?: string,
  ): Promise<string>;
  job(id: string): Promise<JobSummary>;
  workers(): Promise<WorkerSummary[]>;
  results(id: string): Promise<ResultLine[]>;
  cancel(id: string): Promise<void>;
  /** Resolves once the job is `completed` (auto-waiting poll). */
  waitCompleted(id: string, timeoutMs?: number): Promise<void>;
  /** A `colony worker` child with `threads` threads, killed after the test. */
  startNodeWorker(threads?: number, name?: string): ChildProcess;
  /** Stops the master (SIGKILL), then starts it again on the same port and data dir. */
  restart(onDown?: () => Promise<void>): Promise<void>;
}

function spawnCli(args: string[]): ChildProcess {
  // A config dir per process: each worker is a volunteer of its own, and the user's
  // ~/.config is left alone.
  const config = mkdtempSync(path.join(os.tmpdir(), 'colony-config-'));
  return spawn(process.execPath, [CLI, ...args], {
    cwd: ROOT,
    env: { ...process.env, COLONY_LOG_LEVEL: 'warn', XDG_CONFIG_HOME: config },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

/** Starts `colony master` and resolves once it printed its URLs. */
async function startMaster(
  dataDir: string,
  port = 0,
): Promise<{ child: ChildProcess; url: string }> {
  const child = spawnCli([
    'master',
    '--port',
    String(port),
    '--data',
    dataDir,
    '--token',
    TOKEN,
    // Every page and fake worker of these tests comes from 127.0.0.1.
    '--max-connections-per-address',
    '100000',
    '--max-handshakes-per-address',
    '100000',
  ]);
  let out = '';
  let err = '';
  child.stderr?.on('data', (chunk: Buffer) => (err += chunk.toString()));
  const url = await new Promise<string>((resolve, reject) => {
    child.stdout?.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const match = /dashboard:\s+(http:\/\/\S+?)\/?\s/.exec(out);
      if (match?.[1]) resolve(match[1]);
    });
    child.on('exit', (code) =>
      reject(
        new Error(
          `colony master exited (${code}) before it was ready:\n${out}\n${err}`,
        ),
      ),
    );
  });
  return { child, url };
}

async function api<T>(
  url: string,
  init: RequestInit & { token?: string } = {},
): Promise<{ status: number; body: T; text: string }> {
  const headers = new Headers(init.headers);
  if (init.token) headers.set('authorization', `Bearer ${init.token}`);
  const response = await fetch(url, { ...init, headers });
  const text = await response.text();
  let body: unknown = undefined;
  try {
    body = JSON.parse(text);
  } catch {
    body = undefined;
  }
  return { status: response.status, body: body as T, text };
}

export const test = base.extend<{ master: Master; pageErrors: string[] }>({
  /**
   * Every console error and uncaught exception of the test's pages (CSP violations
   * included); the test fails if there are any. Checked before the master stops, so
   * that the pages' reconnect attempts at teardown do not count.
   */
  pageErrors: [
    async ({ context, master }, use) => {
      void master;
      const errors: string[] = [];
      context.on('console', (message) => {
        if (message.type() === 'error')
          errors.push(`console: ${message.text()}`);
      });
      context.on('weberror', (error) =>
        errors.push(`uncaught: ${error.error().message}`),
      );
      await use(errors);
      expect(errors, 'console errors in the pages').toEqual([]);
    },
    { auto: true },
  ],
  // eslint-disable-next-line no-empty-pattern -- Playwright reads a fixture's dependencies from this pattern; the master needs none
  master: async ({}, use) => {
    const dataDir = mkdtempSync(path.join(os.tmpdir(), 'colony-e2e-'));
    const started = await startMaster(dataDir);
    let child = started.child;
    const url = started.url;
    const workers: ChildProcess[] = [];
    const master: Master = {
      url,
      token: TOKEN,
      async submit(name, inputs, options = {}, module = SQUARE_MODULE) {
        const res = await api<{ id: string }>(`${url}/api/jobs`, {
          method: 'POST',
          token: TOKEN,
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ name, module, inputs, options }),
        });
        expect(res.status, res.text).toBe(201);
        return res.body.id;
      },
      async job(id) {
        const res = await api<JobSummary>(`${url}/api/jobs/${id}`);
        expect(res.status, res.text).toBe(200);
        return res.body;
      },
      async workers() {
        const res = await api<WorkerSummary[]>(`${url}/api/workers`);
        expect(res.status, res.text).toBe(200);
        return res.body;
      },
      async results(id) {
        const res = await api<unknown>(`${url}/api/jobs/${id}/results`, {
          token: TOKEN,
        });
        expect(res.status, res.text).toBe(200);
        return res.text
          .split('\n')
          .filter((line) => line.trim() !== '')
          .map((line) => JSON.parse(line) as ResultLine);
      },
      async cancel(id) {
        const res = await api<unknown>(`${url}/api/jobs/${id}`, {
          method: 'DELETE',
          token: TOKEN,
        });
        expect(res.status, res.text).toBeLessThan(300);
      },
      async waitCompleted(id, timeoutMs = 90_000) {
        await expect
          .poll(async () => (await master.job(id)).state, {
            timeout: timeoutMs,
            message: `job ${id} completes`,
          })
          .toBe('completed');
      },
      startNodeWorker(threads = 1, name) {
        const worker = spawnCli([
          'worker',
          url,
          '--threads',
          String(threads),
          ...(name ? ['--name', name] : []),
        ]);
        workers.push(worker);
        return worker;
      },
      async restart(onDown) {
        const down = new Promise((resolve) => child.once('exit', resolve));
        child.kill('SIGKILL');
        await down;
        await onDown?.();
        const again = await startMaster(dataDir, Number(new URL(url).port));
        expect(again.url).toBe(url);
        child = again.child;
      },
    };
    await use(master);
    for (const worker of workers) worker.kill('SIGKILL');
    child.kill('SIGTERM');
    await new Promise((resolve) => {
      if (child.exitCode !== null) resolve(null);
      else child.once('exit', resolve);
    });
    rmSync(dataDir, { recursive: true, force: true });
  },
});

export { expect };

/** Opens a volunteer tab that starts at once with `threads` threads. */
/** Opens the dashboard on `page` and waits until its feed is live. */
export async function openDashboard(page: Page, master: Master): Promise<void> {
  await page.goto(`${master.url}/`);
  await expect(page.getByTestId('connection')).toHaveAttribute(
    'data-state',
    'live',
  );
}

export async function openVolunteer(
  context: BrowserContext,
  master: Master,
  threads = 1,
  name?: string,
): Promise<Page> {
  const page = await context.newPage();
  const query = new URLSearchParams({
    autostart: '1',
    threads: String(threads),
  });
  if (name) query.set('name', name);
  await page.goto(`${master.url}/volunteer?${query.toString()}`);
  await expect(page.getByTestId('connection')).toHaveText('connected');
  return page;
}

/** Every task has exactly one result, and it is correct. */
export function expectSquares(lines: ResultLine[], count: number): void {
  expect(lines).toHaveLength(count);
  const seen = new Set<number>();
  for (const line of lines) {
    expect(seen.has(line.index), `index ${line.index} reported twice`).toBe(
      false,
    );
    seen.add(line.index);
    expect(line).toEqual({
      index: line.index,
      ok: true,
      output: line.index * line.index,
    });
  }
  expect(seen.size).toBe(count);
}

/** Writes a screenshot to test-results/screenshots/<name>.png. */
export async function screenshot(
  page: Page,
  name: string,
  fullPage = false,
): Promise<string> {
  mkdirSync(SCREENSHOTS, { recursive: true });
  const file = path.join(SCREENSHOTS, `${name}.png`);
  await page.screenshot({ path: file, fullPage, animations: 'disabled' });
  return file;
}
