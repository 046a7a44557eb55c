// A volunteer tab over HTTPS at a real-looking name: `colony master --tls-cert
// --tls-key` with a certificate from a private CA made here, Chromium resolving
// colony.test to 127.0.0.1. The page is a secure context, cross-origin isolated, and
// its Web Workers complete a job over WSS.
import { test as base, expect } from '@playwright/test';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import config from '../../playwright.config.js';
import type { ResultLine } from '../../shared/job.js';
import {
  httpsRequest,
  makeCa,
  makeServerCert,
  type TestCa,
} from '../helpers/tls-certs.js';
import { ROOT, SQUARE_MODULE, TOKEN, expectSquares } from './fixtures.js';

const HOST = 'colony.test';
const launch = config.use?.launchOptions ?? {};

interface TlsMaster {
  port: number;
  ca: TestCa;
}

const test = base.extend<{ tlsMaster: TlsMaster }>({
  // eslint-disable-next-line no-empty-pattern -- Playwright reads a fixture's dependencies from this pattern; this one needs none
  tlsMaster: async ({}, use) => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'colony-e2e-tls-'));
    const ca = makeCa(dir);
    const server = makeServerCert(ca, 'server');
    const child: ChildProcess = spawn(
      process.execPath,
      [
        path.join(ROOT, 'bin/colony.mjs'),
        'master',
        '--port',
        '0',
        '--data',
        path.join(dir, 'data'),
        '--token',
        TOKEN,
        '--tls-cert',
        server.cert,
        '--tls-key',
        server.key,
      ],
      {
        cwd: ROOT,
        env: { ...process.env, COLONY_LOG_LEVEL: 'warn' },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let out = '';
    const port = await new Promise<number>((resolve, reject) => {
      child.stdout?.on('data', (chunk: Buffer) => {
        out += chunk.toString();
        const match = /dashboard:\s+https:\/\/127\.0\.0\.1:(\d+)\//.exec(out);
        if (match?.[1]) resolve(Number(match[1]));
      });
      child.on('exit', (code) =>
        reject(new Error(`colony master exited (${code}):\n${out}`)),
      );
    });
    await use({ port, ca });
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    await exited;
    rmSync(dir, { recursive: true, force: true });
  },
});

test.use({
  ignoreHTTPSErrors: true,
  launchOptions: {
    ...launch,
    args: [
      ...(launch.args ?? []),
      `--host-resolver-rules=MAP ${HOST} 127.0.0.1`,
    ],
  },
});

test('a volunteer tab at https://colony.test is cross-origin isolated and completes a job over wss', async ({
  page,
  tlsMaster,
}) => {
  const errors: string[] = [];
  page.on('console', (message) => {
    if (message.type() === 'error') errors.push(message.text());
  });
  page.on('pageerror', (error) => errors.push(error.message));
  const origin = `https://${HOST}:${tlsMaster.port}`;
  await page.goto(`${origin}/volunteer?autostart=1&threads=2&name=tls-tab`);
  await expect(page.getByTestId('connection')).toHaveText('connected');
  expect(await page.evaluate(() => globalThis.isSecureContext)).toBe(true);
  expect(await page.evaluate(() => globalThis.crossOriginIsolated)).toBe(true);
  expect(await page.evaluate(() => location.protocol)).toBe('https:');

  // The API through the same TLS port, trusting the test CA (not ignoring errors).
  const api = `https://127.0.0.1:${tlsMaster.port}`;
  const auth = { authorization: `Bearer ${TOKEN}` };
  const created = await httpsRequest(`${api}/api/jobs`, {
    ca: tlsMaster.ca.caCert,
    method: 'POST',
    headers: { ...auth, 'content-type': 'application/json' },
    body: JSON.stringify({
      name: 'squares-over-tls',
      module: SQUARE_MODULE,
      inputs: Array.from({ length: 200 }, (_, x) => ({ x, spinMs: 2 })),
    }),
  });
  expect(created.status, created.body).toBe(201);
  const { id } = JSON.parse(created.body) as { id: string };
  const results = await httpsRequest(`${api}/api/jobs/${id}/results?follow=1`, {
    ca: tlsMaster.ca.caCert,
    headers: auth,
  });
  expect(results.status).toBe(200);
  expectSquares(
    results.body
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as ResultLine),
    200,
  );
  const workers = await httpsRequest(`${api}/api/workers`, {
    ca: tlsMaster.ca.caCert,
  });
  const list = JSON.parse(workers.body) as { name: string; kind: string }[];
  expect(list.map((w) => [w.kind, w.name])).toEqual([['browser', 'tls-tab']]);
  expect(errors, 'console errors in the page').toEqual([]);
});
