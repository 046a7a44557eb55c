/** The HTTP API's refusals: token, body shape, content type, size, paths. */
import { describe, expect, test } from 'vitest';
import { ErrorCode } from '../../shared/errors.js';
import { readdirSync } from 'node:fs';
import path from 'node:path';
import {
  ROOT,
  collectResults,
  fixtureModule,
  spawnWorker,
  startTestMaster,
} from '../helpers/master.js';

async function post(
  url: string,
  body: string,
  headers: Record<string, string>,
) {
  const response = await fetch(url, { method: 'POST', body, headers });
  return {
    status: response.status,
    body: (await response.json()) as {
      error?: { code: string; message: string };
      id?: string;
    },
  };
}

describe('HTTP API', () => {
  test('submit without a token: 401 and nothing stored', async () => {
    const master = await startTestMaster();
    const module = await fixtureModule('square.mjs');
    const body = JSON.stringify({ name: 'x', module, inputs: [{ x: 1 }] });
    const none = await post(`${master.url}/api/jobs`, body, {
      'content-type': 'application/json',
    });
    expect(none.status).toBe(401);
    expect(none.body.error?.code).toBe(ErrorCode.Unauthorized);
    const wrong = await post(`${master.url}/api/jobs`, body, {
      'content-type': 'application/json',
      authorization: 'Bearer not-the-token',
    });
    expect(wrong.status).toBe(401);
    expect(await master.client.jobs()).toEqual([]);
  });

  test('malformed bodies: 400 with a code from the catalogue, nothing stored', async () => {
    const master = await startTestMaster();
    const auth = {
      'content-type': 'application/json',
      authorization: 'Bearer test-token',
    };
    const badJson = await post(`${master.url}/api/jobs`, '{"name": ', auth);
    expect(badJson.status).toBe(400);
    expect(badJson.body.error?.code).toBe(ErrorCode.InvalidMessage);
    const missing = await post(
      `${master.url}/api/jobs`,
      JSON.stringify({ name: 'x' }),
      auth,
    );
    expect(missing.status).toBe(400);
    expect(missing.body.error?.message).toMatch(/module/);
    const syntax = await post(
      `${master.url}/api/jobs`,
      JSON.stringify({ name: 'x', module: 'export default function (' }),
      auth,
    );
    expect(syntax.status).toBe(400);
    expect(syntax.body.error?.code).toBe(ErrorCode.InvalidModule);
    const noDefault = await post(
      `${master.url}/api/jobs`,
      JSON.stringify({ name: 'x', module: 'export const a = 1;' }),
      auth,
    );
    expect(noDefault.status).toBe(400);
    expect(noDefault.body.error?.message).toMatch(/default export/);
    const text = await post(`${master.url}/api/jobs`, '{}', {
      ...auth,
      'content-type': 'text/plain',
    });
    expect(text.status).toBe(415);
    expect(await master.client.jobs()).toEqual([]);
  });

  test('oversized body: 413; unknown route and path traversal: 404', async () => {
    const master = await startTestMaster({ maxBodyBytes: 1_000 });
    const big = await post(`${master.url}/api/jobs`, 'x'.repeat(5_000), {
      'content-type': 'application/json',
      authorization: 'Bearer test-token',
    });
    expect(big.status).toBe(413);
    expect(big.body.error?.code).toBe(ErrorCode.PayloadTooLarge);
    for (const bad of [
      '/api/nope',
      '/../package.json',
      '/%2e%2e/package.json',
      '/modules/../../x.js',
      '/api/jobs/999',
    ]) {
      const response = await fetch(`${master.url}${bad}`);
      expect(response.status, bad).toBe(404);
      expect(
        ((await response.json()) as { error: { code: string } }).error.code,
      ).toBe(ErrorCode.NotFound);
    }
  });

  test('a known path with another method: 405 with Allow; an unknown path: 404', async () => {
    const master = await startTestMaster();
    const known: [method: string, route: string, allow: string][] = [
      ['PUT', '/api/jobs', 'GET, POST'],
      ['POST', '/api/jobs/abc', 'GET, DELETE'],
      ['GET', '/api/jobs/abc/inputs', 'POST'],
      ['GET', '/api/jobs/abc/seal', 'POST'],
      ['DELETE', '/api/jobs/abc/results', 'GET'],
      ['POST', '/api/workers', 'GET'],
      ['POST', '/healthz', 'GET, HEAD'],
      ['DELETE', '/metrics', 'GET, HEAD'],
      ['POST', '/', 'GET, HEAD'],
      ['PUT', `/modules/${'0'.repeat(64)}.js`, 'GET, HEAD'],
    ];
    for (const [method, route, allow] of known) {
      const response = await fetch(`${master.url}${route}`, { method });
      expect(response.status, `${method} ${route}`).toBe(405);
      expect(response.headers.get('allow'), route).toBe(allow);
      expect(
        ((await response.json()) as { error: { code: string } }).error.code,
      ).toBe(ErrorCode.MethodNotAllowed);
    }
    for (const [method, route] of [
      ['POST', '/api/nope'],
      ['DELETE', '/api/jobs/abc/nope'],
      ['POST', '/no-such-page'],
    ] as const) {
      const response = await fetch(`${master.url}${route}`, { method });
      expect(response.status, `${method} ${route}`).toBe(404);
      expect(response.headers.get('allow')).toBeNull();
      expect(
        ((await response.json()) as { error: { code: string } }).error.code,
      ).toBe(ErrorCode.NotFound);
    }
    const head = await fetch(`${master.url}/healthz`, { method: 'HEAD' });
    expect(head.status).toBe(200);
  });

  test('pages are served; the task worker script may import modules and nothing else', async () => {
    const master = await startTestMaster();
    for (const page of ['/', '/volunteer']) {
      const response = await fetch(`${master.url}${page}`);
      expect(response.status, page).toBe(200);
      expect(response.headers.get('content-type')).toMatch(/text\/html/);
    }
    const assets = readdirSync(path.join(ROOT, 'dist/web/assets'));
    const worker = assets.find((file) => /^task\.worker.*\.js$/.test(file));
    expect(worker).toBeDefined();
    const response = await fetch(`${master.url}/assets/${worker}`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-security-policy')).toBe(
      "default-src 'none'; script-src 'self'; connect-src 'none'; worker-src 'none'; frame-ancestors 'none'",
    );
  });

  test('bytes over HTTP: a Uint8Array input reaches the task as bytes and comes back as bytes', async () => {
    const master = await startTestMaster();
    spawnWorker(master.url, 1);
    const module = await fixtureModule('bytes.mjs');
    const data = new Uint8Array(100_000).map((_, i) => i % 256);
    const { id } = await master.client.submit({
      name: 'bytes',
      module,
      inputs: [{ data }],
    });
    const [line] = [...(await collectResults(master.client, id)).values()];
    expect(line?.ok).toBe(true);
    const reversed = line?.ok
      ? (line.output as { reversed: Uint8Array }).reversed
      : null;
    expect(reversed instanceof Uint8Array).toBe(true);
    expect(Buffer.compare(reversed as Uint8Array, data.slice().reverse())).toBe(
      0,
    );
  });

  test('inputs appended as NDJSON, then sealed; the job runs them all', async () => {
    const master = await startTestMaster();
    const module = await fixtureModule('square.mjs');
    const { id } = await master.client.submit({
      name: 'streamed',
      module,
      sealed: false,
    });
    await master.client.append(id, [{ x: 1 }, { x: 2 }]);
    await master.client.append(id, [{ x: 3 }]);
    expect((await master.client.job(id)).counts.total).toBe(3);
    await master.client.seal(id);
    await expect(master.client.append(id, [{ x: 4 }])).rejects.toMatchObject({
      code: ErrorCode.JobSealed,
    });
    const bad = await fetch(`${master.url}/api/jobs/${id}/inputs`, {
      method: 'POST',
      body: '{"x":1}',
      headers: {
        authorization: 'Bearer test-token',
        'content-type': 'application/json',
      },
    });
    expect(bad.status).toBe(415);
    const metrics = await (await fetch(`${master.url}/metrics`)).text();
    expect(metrics).toMatch(/^colony_jobs\{state="running"\} 1$/m);
    expect(
      (await (await fetch(`${master.url}/healthz`)).json()) as object,
    ).toMatchObject({ ok: true });
  });
});
