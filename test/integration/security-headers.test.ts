/**
 * What the master tells browsers and who it lets in: the headers of every route of the
 * route table and of the static files, no source maps, the `/ws` Origin check,
 * `--allowed-hosts`, the data dir's modes and the token's minimum length.
 */
import {
  chmodSync,
  cpSync,
  existsSync,
  mkdirSync,
  readdirSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { describe, expect, onTestFinished, test } from 'vitest';
import { ColonyClient } from '../../server/client/index.js';
import { startMaster } from '../../server/master/main.js';
import { ErrorCode } from '../../shared/errors.js';
import { jobId } from '../helpers/ids.js';
import { apiRoutes } from '../../server/master/http/api-routes.js';
import { siteRoutes } from '../../server/master/http/site-routes.js';
import type { HttpOptions } from '../../server/master/http/options.js';
import type { Route } from '../../server/master/http/router.js';
import {
  ROOT,
  fixtureModule,
  spawnColony,
  startTestMaster,
  tempDir,
  waitForOutput,
} from '../helpers/master.js';

const WEB = path.join(ROOT, 'dist/web');
const TOKEN = 'test-token';

type TestMaster = Awaited<ReturnType<typeof startTestMaster>>;

/** The master's real route table, built from its own parts. */
function routeTable(master: TestMaster): Route[] {
  const options: HttpOptions = {
    runtime: master.runtime,
    jobs: master.jobs,
    feed: master.feed,
    gateway: () => master.gateway,
    logger: master.logger,
    token: master.token,
    webRoot: WEB,
    maxBodyBytes: 1024,
    serveSourceMaps: false,
    originPolicy: { allowedOrigins: [] },
  };
  return [...apiRoutes(options), ...siteRoutes(options)];
}

function mode(file: string): number {
  return statSync(file).mode & 0o777;
}

/** A raw WebSocket upgrade: the status it gets and the body of a refusal. */
function upgrade(
  url: string,
  headers: Record<string, string>,
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(`${url}/ws`, {
      headers: {
        connection: 'Upgrade',
        upgrade: 'websocket',
        'sec-websocket-version': '13',
        'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==',
        ...headers,
      },
    });
    req.on('upgrade', (res, socket) => {
      socket.destroy();
      resolve({ status: res.statusCode ?? 0, body: '' });
    });
    req.on('response', (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('response headers', () => {
  test('every route of the table: nosniff; pages: CSP header with frame-ancestors; modules: the task CSP', async () => {
    const master = await startTestMaster();
    const module = await fixtureModule('square.mjs');
    const { id } = await master.client.submit({
      name: 'headers',
      module,
      inputs: [{ x: 1 }],
    });
    const moduleHash = master.runtime.scheduler.jobView(jobId(id))!.spec
      .moduleHash;
    const params: Record<string, string> = { id, file: `${moduleHash}.js` };
    const routes = routeTable(master);
    expect(routes.length).toBeGreaterThanOrEqual(15);
    // Reads first, the cancel last: every route answers with its real handler.
    const ordered = [
      ...routes.filter((r) => r.method !== 'DELETE'),
      ...routes.filter((r) => r.method === 'DELETE'),
    ];
    for (const route of ordered) {
      const target = route.path.replace(/:(\w+)/g, (_, name: string) => {
        expect(params[name], `a value for :${name}`).toBeDefined();
        return params[name]!;
      });
      const response = await fetch(`${master.url}${target}`, {
        method: route.method,
        headers: { authorization: `Bearer ${TOKEN}` },
      });
      await response.arrayBuffer();
      const what = `${route.method} ${route.path} (${response.status})`;
      expect(response.headers.get('x-content-type-options'), what).toBe(
        'nosniff',
      );
      expect(response.headers.get('referrer-policy'), what).toBe('no-referrer');
      expect(response.headers.get('cross-origin-resource-policy'), what).toBe(
        'same-origin',
      );
      const csp = response.headers.get('content-security-policy');
      if (route.path === '/' || route.path === '/volunteer') {
        expect(response.status, what).toBe(200);
        expect(csp, what).toContain("frame-ancestors 'none'");
        expect(csp, what).toContain("object-src 'none'");
        expect(response.headers.get('cross-origin-opener-policy')).toBe(
          'same-origin',
        );
        expect(response.headers.get('cross-origin-embedder-policy')).toBe(
          'require-corp',
        );
      }
      if (route.path === '/modules/:file') {
        expect(response.status, what).toBe(200);
        expect(csp, what).toContain("connect-src 'none'");
        expect(csp, what).toContain("worker-src 'none'");
      }
    }
  });

  test('static files, errors and refusals carry nosniff too; the dashboard may start no workers', async () => {
    const master = await startTestMaster();
    const assets = readdirSync(path.join(WEB, 'assets'));
    const paths = [
      ...assets.map((file) => `/assets/${file}`),
      '/no-such-file.js',
      '/api/no-such-route',
      '/../../etc/passwd',
    ];
    for (const target of paths) {
      const response = await fetch(`${master.url}${target}`);
      await response.arrayBuffer();
      expect(response.headers.get('x-content-type-options'), target).toBe(
        'nosniff',
      );
    }
    const wrongMethod = await fetch(`${master.url}/healthz`, {
      method: 'POST',
    });
    expect(wrongMethod.status).toBe(405);
    expect(wrongMethod.headers.get('x-content-type-options')).toBe('nosniff');
    const dashboard = await fetch(`${master.url}/`);
    expect(dashboard.headers.get('content-security-policy')).toContain(
      "worker-src 'none'",
    );
    const volunteer = await fetch(`${master.url}/volunteer`);
    expect(volunteer.headers.get('content-security-policy')).toContain(
      "worker-src 'self'",
    );
  });

  test('no source maps: none built into the served dir, and .map is a 404 unless --serve-source-maps', async () => {
    const built = readdirSync(WEB, { recursive: true }).map(String);
    expect(built.filter((file) => file.endsWith('.map'))).toEqual([]);
    // A web root that does hold a map, as an older build would.
    const webRoot = path.join(tempDir(), 'web');
    cpSync(WEB, webRoot, { recursive: true });
    writeFileSync(path.join(webRoot, 'assets/app.js.map'), '{"version":3}');
    const closed = await startTestMaster({ webRoot });
    const refused = await fetch(`${closed.url}/assets/app.js.map`);
    expect(refused.status).toBe(404);
    expect(refused.headers.get('x-content-type-options')).toBe('nosniff');
    const open = await startTestMaster({ webRoot, serveSourceMaps: true });
    const served = await fetch(`${open.url}/assets/app.js.map`);
    expect(served.status).toBe(200);
    expect(await served.text()).toBe('{"version":3}');
  });
});

describe('who may connect', () => {
  test('/ws: a foreign Origin gets 403 with a clear body; the own origin, none and --allowed-origins pass', async () => {
    const master = await startTestMaster();
    const own = new URL(master.url).origin;
    const foreign = await upgrade(master.url, {
      origin: 'https://evil.example',
    });
    expect(foreign.status).toBe(403);
    const body = JSON.parse(foreign.body) as { error: { code: string } };
    expect(body.error.code).toBe(ErrorCode.Forbidden);
    expect(foreign.body).toContain('https://evil.example');
    expect((await upgrade(master.url, { origin: 'null' })).status).toBe(403);
    expect((await upgrade(master.url, { origin: own })).status).toBe(101);
    expect((await upgrade(master.url, {})).status).toBe(101);

    const listed = await startTestMaster({
      allowedOrigins: ['https://volunteers.example'],
    });
    const allowed = await upgrade(listed.url, {
      origin: 'https://volunteers.example',
    });
    expect(allowed.status).toBe(101);
    const other = await upgrade(listed.url, {
      origin: 'https://other.example',
    });
    expect(other.status).toBe(403);
  });

  test('--allowed-hosts: a Host not listed gets 421 on HTTP and on /ws; a listed one is served', async () => {
    const master = await startTestMaster({
      allowedHosts: ['colony.example', '127.0.0.1'],
    });
    const port = new URL(master.url).port;
    const get = (host: string) =>
      new Promise<{ status: number; body: string }>((resolve, reject) => {
        http
          .get(`${master.url}/healthz`, { headers: { host } }, (res) => {
            let body = '';
            res.setEncoding('utf8');
            res.on('data', (chunk: string) => (body += chunk));
            res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
          })
          .on('error', reject);
      });
    const rebound = await get(`rebind.attacker.example:${port}`);
    expect(rebound.status).toBe(421);
    expect(rebound.body).toContain(ErrorCode.MisdirectedRequest);
    expect((await get(`colony.example:${port}`)).status).toBe(200);
    expect((await get(`127.0.0.1:${port}`)).status).toBe(200);
    const ws = await upgrade(master.url, {
      host: `rebind.attacker.example:${port}`,
      origin: `http://rebind.attacker.example:${port}`,
    });
    expect(ws.status).toBe(421);
  });
});

describe('files and token', () => {
  test('a new data dir is 0700, the database files and token 0600, the generated token long', async () => {
    const dataDir = path.join(tempDir(), 'data');
    // No token given: the master generates one and keeps it in the data dir.
    const master = await startMaster({ port: 0, dataDir, logLevel: 'warn' });
    onTestFinished(() => master.close());
    const client = new ColonyClient({ url: master.url, token: master.token });
    // One committed write, so that SQLite has made its -wal and -shm.
    await client.submit({
      name: 'modes',
      module: await fixtureModule('square.mjs'),
      inputs: [{ x: 1 }],
    });
    expect(mode(dataDir)).toBe(0o700);
    for (const name of ['colony.db', 'colony.db-wal', 'colony.db-shm']) {
      const file = path.join(dataDir, name);
      expect(existsSync(file), name).toBe(true);
      expect(mode(file), name).toBe(0o600);
    }
    expect(mode(path.join(dataDir, 'token'))).toBe(0o600);
    expect(master.token.length).toBeGreaterThanOrEqual(32);
  });

  test('a loose data dir and token file are tightened with warnings', async () => {
    const dataDir = path.join(tempDir(), 'data');
    mkdirSync(dataDir);
    chmodSync(dataDir, 0o755);
    const tokenFile = path.join(dataDir, 'token');
    writeFileSync(tokenFile, 'kept-token-0123456789\n', { mode: 0o644 });
    chmodSync(tokenFile, 0o644);
    const run = spawnColony(['master', '--port', '0', '--data', dataDir], {
      COLONY_TOKEN: '',
    });
    await waitForOutput(run, (out) => out.includes('dashboard:'));
    // Log lines are written asynchronously: wait for both.
    const warnings = await waitForOutput(
      run,
      (err) => err.includes('token file was readable by others'),
      'stderr',
    );
    expect(warnings).toContain('data dir was readable by others');
    expect(mode(dataDir)).toBe(0o700);
    expect(mode(tokenFile)).toBe(0o600);
    const health = await fetch(
      `${/dashboard: (\S+)\//.exec(run.stdout())![1]}/api/jobs`,
      {
        method: 'POST',
        headers: { authorization: 'Bearer kept-token-0123456789' },
      },
    );
    // The kept token still works (415: the body, not the token, is refused).
    expect(health.status).toBe(415);
  });

  test('a short --token or COLONY_TOKEN is refused with one line', async () => {
    const dataDir = path.join(tempDir(), 'data');
    const flag = spawnColony([
      'master',
      '--port',
      '0',
      '--data',
      dataDir,
      '--token',
      'short',
    ]);
    expect(await flag.exited).toBe(2);
    expect(flag.stderr()).toBe(
      `colony: --token must be at least 16 characters (it has 5) [${ErrorCode.InvalidArgument}]\n`,
    );
    const env = spawnColony(['master', '--port', '0', '--data', dataDir], {
      COLONY_TOKEN: '123456789012345',
    });
    expect(await env.exited).toBe(2);
    expect(env.stderr()).toContain('COLONY_TOKEN must be at least 16');
    expect(existsSync(path.join(dataDir, 'colony.db'))).toBe(false);
  });
});
