/**
 * Behind nginx: the site configuration of docs/deploy.md (TLS at the proxy, WebSocket
 * upgrade, body size, forwarded headers) in front of a plain `colony master
 * --trust-proxy 127.0.0.1`. Workers through the proxy are seen with their own
 * addresses; `X-Forwarded-For` from anyone but the proxy is ignored.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import WebSocket from 'ws';
import { beforeEach, describe, expect, test } from 'vitest';
import { ColonyClient } from '../../server/client/index.js';
import {
  FIXTURES,
  fixtureModule,
  freePort,
  spawnColony,
  spawnMaster,
  tempDir,
} from '../helpers/master.js';
import {
  siteFromDeployGuide,
  startNginx,
  substitute,
} from '../helpers/nginx.js';
import { hello } from '../helpers/raw-socket.js';
import {
  httpsRequest,
  makeCa,
  makeServerCert,
  type TestCa,
} from '../helpers/tls-certs.js';
import { newKeys, proof } from '../helpers/wire.js';

interface Setup {
  ca: TestCa;
  dir: string;
  masterUrl: string;
  proxyUrl: string;
}

async function proxiedMaster(): Promise<Setup> {
  const dir = tempDir();
  const ca = makeCa(dir);
  const server = makeServerCert(ca, 'proxy');
  const master = await spawnMaster(path.join(dir, 'data'), [
    '--trust-proxy',
    '127.0.0.1',
  ]);
  const port = await freePort();
  let site = siteFromDeployGuide();
  site = substitute(site, 'listen 443 ssl;', `listen 127.0.0.1:${port} ssl;`);
  site = substitute(
    site,
    '/etc/letsencrypt/live/colony.example.org/fullchain.pem',
    server.cert,
  );
  site = substitute(
    site,
    '/etc/letsencrypt/live/colony.example.org/privkey.pem',
    server.key,
  );
  site = substitute(site, 'http://127.0.0.1:8080', master.url);
  await startNginx(dir, site);
  return {
    ca,
    dir,
    masterUrl: master.url,
    proxyUrl: `https://127.0.0.1:${port}`,
  };
}

/** A hand-made worker: connects from `localAddress`, says hello, resolves once welcomed. */
async function helloFrom(
  base: string,
  localAddress: string,
  name: string,
  options: { ca?: string; forwardedFor?: string } = {},
): Promise<WebSocket> {
  const socket = new WebSocket(`${base.replace(/^http/, 'ws')}/ws`, {
    localAddress,
    ...(options.ca ? { ca: readFileSync(options.ca) } : {}),
    ...(options.forwardedFor
      ? { headers: { 'x-forwarded-for': options.forwardedFor } }
      : {}),
  });
  socket.on('error', () => undefined);
  // Protocol 3: answer the master's challenge with a signed hello (a new volunteer).
  const keys = newKeys();
  const host = new URL(base).host;
  const welcome = new Promise<void>((resolve) =>
    socket.on('message', (data) => {
      const frame = JSON.parse(data.toString()) as {
        type: string;
        nonce?: string;
      };
      if (frame.type === 'challenge')
        socket.send(
          hello({ name, volunteer: proof(keys, host, frame.nonce ?? '') }),
        );
      if (frame.type === 'welcome') resolve();
    }),
  );
  await new Promise<void>((resolve, reject) => {
    socket.once('open', () => resolve());
    socket.once('error', reject);
  });
  await welcome;
  return socket;
}

/** Resolves once workers with all of `names` are connected, watching the live feed. */
function connected(masterUrl: string, names: string[]): Promise<void> {
  const byId = new Map<string, string>();
  return new Promise((resolve) => {
    const close = new ColonyClient({ url: masterUrl }).watch((message) => {
      for (const worker of message.workers) byId.set(worker.id, worker.name);
      if (message.type === 'delta')
        for (const id of message.removedWorkers) byId.delete(id);
      const present = new Set(byId.values());
      if (names.every((name) => present.has(name))) {
        close();
        resolve();
      }
    });
  });
}

async function addresses(masterUrl: string): Promise<Record<string, string>> {
  const workers = await new ColonyClient({ url: masterUrl }).workers();
  return Object.fromEntries(workers.map((w) => [w.name, w.address ?? '']));
}

describe('behind nginx with --trust-proxy', () => {
  let setup: Setup;
  beforeEach(async () => {
    setup = await proxiedMaster();
  });

  test('workers through the proxy are seen with their own addresses; forged X-Forwarded-For is ignored', async () => {
    const { ca, masterUrl, proxyUrl } = setup;
    const sockets = [
      await helloFrom(proxyUrl, '127.0.0.2', 'via-proxy-2', { ca: ca.caCert }),
      await helloFrom(proxyUrl, '127.0.0.3', 'via-proxy-3', { ca: ca.caCert }),
      // A forger through the proxy: nginx appends the address it saw, and only that counts.
      await helloFrom(proxyUrl, '127.0.0.4', 'forger-via-proxy', {
        ca: ca.caCert,
        forwardedFor: '203.0.113.7',
      }),
      // A forger straight to the master: not the proxy, so its header is not read.
      await helloFrom(masterUrl, '127.0.0.5', 'forger-direct', {
        forwardedFor: '203.0.113.8',
      }),
      // The trusted proxy's address itself: there the header does count.
      await helloFrom(masterUrl, '127.0.0.1', 'from-the-proxy-address', {
        forwardedFor: '198.51.100.1',
      }),
    ];
    try {
      expect(await addresses(masterUrl)).toEqual({
        'via-proxy-2': '127.0.0.2',
        'via-proxy-3': '127.0.0.3',
        'forger-via-proxy': '127.0.0.4',
        'forger-direct': '127.0.0.5',
        'from-the-proxy-address': '198.51.100.1',
      });
    } finally {
      for (const socket of sockets) socket.terminate();
    }
  });

  test('two colony workers over wss through the proxy, seen with their own addresses, complete a job submitted through it with a body past 1 MB', async () => {
    const { ca, masterUrl, proxyUrl } = setup;
    const site = siteFromDeployGuide();
    // The heartbeat pings every 10 s by default; the proxy must wait far longer.
    const readTimeout = Number(/proxy_read_timeout (\d+)s;/.exec(site)?.[1]);
    expect(readTimeout).toBeGreaterThanOrEqual(60);

    // Two real workers, leaving from two loopback addresses as if from two machines.
    for (const from of ['127.0.0.2', '127.0.0.3'])
      spawnColony(['worker', proxyUrl, '--threads', '1', '--name', from], {
        NODE_EXTRA_CA_CERTS: ca.caCert,
        NODE_OPTIONS: `--import ${path.join(FIXTURES, 'bind-from.mjs')}`,
        BIND_FROM: from,
      });
    await connected(masterUrl, ['127.0.0.2', '127.0.0.3']);
    const pad = 'p'.repeat(1_000);
    const inputs = Array.from({ length: 1_500 }, (_, x) => ({ x, pad }));
    const body = JSON.stringify({
      name: 'through nginx',
      module: await fixtureModule('square.mjs'),
      inputs,
    });
    expect(body.length).toBeGreaterThan(1024 * 1024); // nginx's default limit is 1 MB
    const auth = { authorization: 'Bearer test-token-0123456789' };
    const created = await httpsRequest(`${proxyUrl}/api/jobs`, {
      ca: ca.caCert,
      method: 'POST',
      headers: { ...auth, 'content-type': 'application/json' },
      body,
    });
    expect(created.status, created.body).toBe(201);
    const { id } = JSON.parse(created.body) as { id: string };

    const results = await httpsRequest(
      `${proxyUrl}/api/jobs/${id}/results?follow=1`,
      { ca: ca.caCert, headers: auth },
    );
    expect(results.status).toBe(200);
    const lines = results.body
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { index: number; output: number });
    expect(lines).toHaveLength(inputs.length);
    for (const line of lines) expect(line.output).toBe(line.index ** 2);
    // nginx connects from 127.0.0.1; the master sees each worker's own address.
    expect(await addresses(masterUrl)).toEqual({
      '127.0.0.2': '127.0.0.2',
      '127.0.0.3': '127.0.0.3',
    });
  });
});
