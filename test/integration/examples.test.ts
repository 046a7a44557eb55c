/**
 * The four examples as users run them (`node examples/run.mjs <name> --small`), against
 * one master and two Node workers started here: each must pass its own check (the
 * distributed answer equal to the single-process one) and exit 0.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium } from '@playwright/test';
import { PNG } from 'pngjs';
import {
  afterAll,
  beforeAll,
  describe,
  expect,
  onTestFinished,
  test,
} from 'vitest';
import { ColonyClient } from '../../server/client/index.js';
import { createLogger } from '../../server/log.js';
import { startMaster, type RunningMaster } from '../../server/master/main.js';
import {
  startNodeWorker,
  type RunningWorker,
} from '../../server/worker/node-worker.js';
import { decodeWeightsFile } from '../../examples/train/model.js';
import { assertTestRunning } from '../helpers/test-running.js';

const ROOT = path.resolve(import.meta.dirname, '../..');
const CHROMIUM = '/usr/bin/chromium';
const RUN = path.join(ROOT, 'examples/run.mjs');

let master: RunningMaster;
let client: ColonyClient;
const workers: RunningWorker[] = [];
let dir: string;

beforeAll(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'colony-examples-'));
  master = await startMaster({
    port: 0,
    store: 'memory',
    dataDir: dir,
    token: 'test-token',
    logLevel: 'warn',
  });
  client = new ColonyClient({ url: master.url, token: master.token });
  const logger = createLogger('worker', 'warn');
  await Promise.all(
    [1, 2].map(
      (i) =>
        new Promise<void>((resolve) => {
          workers.push(
            startNodeWorker({
              url: master.url,
              threads: 1,
              name: `test-${i}`,
              logger,
              onStatus: (status) => {
                if (status.state === 'connected') resolve();
              },
            }),
          );
        }),
    ),
  );
});

afterAll(async () => {
  await Promise.all(workers.map((worker) => worker.stop()));
  await master.close();
  rmSync(dir, { recursive: true, force: true });
});

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** `node examples/run.mjs <args>`, as `npm run example -- <args>` runs it. */
function runExample(
  args: string[],
  target: { url: string; token: string } | null = master,
): Promise<Run> {
  const argv = target
    ? [...args, '--url', target.url, '--token', target.token]
    : args;
  assertTestRunning('an example');
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [RUN, ...argv], {
      cwd: ROOT,
      env: { ...process.env, COLONY_LOG_LEVEL: 'warn' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    // A test that times out must not leave its example running (with the master and
    // workers an example without --url starts for itself).
    onTestFinished(() => {
      if (child.exitCode === null && child.signalCode === null)
        child.kill('SIGKILL');
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

function expectPassed(run: Run, url = master.url): void {
  if (run.code !== 0)
    throw new Error(`exit ${run.code}\n${run.stdout}\n${run.stderr}`);
  expect(run.stdout).toMatch(/^check: OK/m);
  expect(run.stdout).toMatch(/^distributed: +\d+\.\d\d s/m);
  expect(run.stdout).toMatch(/^single-process: +\d+\.\d\d s/m);
  expect(run.stdout).toContain(`cluster: master at ${url}`);
}

describe('examples, small, on a running master with two Node workers', () => {
  test('stats: 1,000,000 rows, merged summaries equal single-process', async () => {
    const run = await runExample(['stats', '--small']);
    expectPassed(run);
    expect(run.stdout).toContain('1,000,000 taxi fares');
    for (const city of ['amsterdam', 'berlin', 'vienna'])
      expect(run.stdout).toMatch(new RegExp(`^${city} +\\d`, 'm'));
  });

  test('train: 20 rounds, accuracy within 1 point of single-process, weights saved', async () => {
    const out = path.join(dir, 'weights.bin');
    const run = await runExample(['train', '--small', '--out', out]);
    expectPassed(run);
    const rounds = run.stdout.match(
      /^round +\d+\/20 +loss \d+\.\d+ +accuracy/gm,
    );
    expect(rounds).toHaveLength(20);
    expect(run.stdout).toMatch(/overhead per round: mean \d+\.\d ms/);
    expect(decodeWeightsFile(new Uint8Array(readFileSync(out)))).toHaveLength(
      7_850,
    );
    // One job per round, each completed.
    const jobs = await client.jobs();
    const trainJobs = jobs.filter((job) => job.name.startsWith('train: round'));
    expect(trainJobs).toHaveLength(20);
    expect(trainJobs.every((job) => job.state === 'completed')).toBe(true);
  });

  test('classify: predictions equal single-process, with the weights train saved', async () => {
    const weights = path.join(dir, 'weights.bin');
    expect(existsSync(weights)).toBe(true);
    const run = await runExample(['classify', '--small', '--weights', weights]);
    expectPassed(run);
    expect(run.stdout).toContain('(saved by train)');
    expect(run.stdout).toMatch(/^accuracy: \d+\.\d\d%/m);
    expect(run.stdout).toMatch(/^ring +\d+ +\d+/m);
    expect(run.stdout).toContain(
      'all 2,000 predictions equal to single-process',
    );
  });

  test('mandelbrot: the PNG is the single-process render', async () => {
    const out = path.join(dir, 'mandelbrot.png');
    const run = await runExample(['mandelbrot', '--small', '--out', out]);
    expectPassed(run);
    expect(run.stdout).toContain(`png: ${out}`);
    const png = PNG.sync.read(readFileSync(out));
    expect([png.width, png.height]).toEqual([384, 256]);
  });

  test('both workers took part', async () => {
    const seen = await client.workers();
    expect(seen).toHaveLength(2);
    expect(seen.every((worker) => worker.done > 0)).toBe(true);
  });

  test('an unknown example: one line listing the examples, exit 2', async () => {
    const run = await runExample(['nope'], null);
    expect(run.code).toBe(2);
    expect(run.stderr.trim()).toBe(
      'error: no example "nope"; the examples are: classify, mandelbrot, stats, train',
    );
  });
});

describe('an example alone', () => {
  test('starts its own master and two local workers', async () => {
    const run = await runExample(
      ['mandelbrot', '--small', '--out', path.join(dir, 'alone.png')],
      null,
    );
    if (run.code !== 0)
      throw new Error(`exit ${run.code}\n${run.stdout}\n${run.stderr}`);
    expect(run.stdout).toMatch(/cluster: local master \+ 2 Node workers/);
    expect(run.stdout).toMatch(/^check: OK/m);
  });
});

describe('an example on a browser tab', () => {
  test('train --small with a volunteer tab as the only worker', async () => {
    const browserDir = mkdtempSync(path.join(os.tmpdir(), 'colony-tab-'));
    const tabMaster = await startMaster({
      port: 0,
      store: 'memory',
      dataDir: browserDir,
      token: 'tab-token',
      logLevel: 'warn',
    });
    const browser = await chromium.launch({ executablePath: CHROMIUM });
    try {
      const page = await browser.newPage();
      await page.goto(`${tabMaster.url}/volunteer?autostart=1&threads=2`);
      const tabClient = new ColonyClient({ url: tabMaster.url });
      // The live feed says when the tab has joined: no polling.
      await new Promise<void>((resolve) => {
        const close = tabClient.watch((message) => {
          if (message.workers.length > 0) {
            close();
            resolve();
          }
        });
      });
      const run = await runExample(['train', '--small'], tabMaster);
      expectPassed(run, tabMaster.url);
      const [tab] = await tabClient.workers();
      // 20 rounds of 4 tasks, all computed in the tab.
      expect(tab?.kind).toBe('browser');
      expect(tab?.done).toBeGreaterThanOrEqual(80);
    } finally {
      await browser.close();
      await tabMaster.close();
      rmSync(browserDir, { recursive: true, force: true });
    }
  });
});
