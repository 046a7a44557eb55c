import { once } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, test } from 'vitest';
import { AppError } from '../../../shared/errors.js';
import {
  readLentBody,
  type LentBody,
} from '../../../server/master/http/request-body.js';

const servers: http.Server[] = [];

afterEach(async () => {
  await Promise.all(
    servers.splice(0).map((s) => new Promise((r) => s.close(r))),
  );
});

/**
 * A server that reads each body with readLentBody and hands it to `onBody` (which
 * releases it when it likes); answers 200, or 413 on AppError.
 */
async function serve(
  limit: number,
  onBody: (body: LentBody) => void | Promise<void>,
): Promise<string> {
  const server = http.createServer((req, res) => {
    readLentBody(req, limit)
      .then(onBody)
      .then(() => res.end('ok'))
      .catch((error: unknown) => {
        res.statusCode = error instanceof AppError ? 413 : 500;
        res.end(String(error));
      });
  });
  servers.push(server);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
}

/** POSTs `parts` one write at a time, waiting for `between()` after each but the last. */
async function post(
  url: string,
  parts: string[],
  between: () => Promise<void> = () => Promise.resolve(),
): Promise<{ status: number; text: string }> {
  const req = http.request(url, { method: 'POST' });
  const response = once(req, 'response');
  for (let i = 0; i < parts.length; i++) {
    req.write(parts[i]);
    if (i < parts.length - 1) await between();
  }
  req.end();
  const [res] = (await response) as [http.IncomingMessage];
  let text = '';
  for await (const chunk of res) text += String(chunk);
  return { status: res.statusCode ?? 0, text };
}

describe('readLentBody', () => {
  test('each body whole, also when the kept buffer is reused or bodies overlap', async () => {
    const seen: string[] = [];
    const url = await serve(1 << 20, (body) => {
      seen.push(body.bytes.toString('utf8'));
      body.release();
    });
    await post(url, ['{"a":', '"é"}']);
    await post(url, ['x'.repeat(100_000)]);
    await post(url, ['short']);
    expect(seen).toEqual(['{"a":"é"}', 'x'.repeat(100_000), 'short']);
  });

  test('a body read while the kept buffer is lent gets its own bytes', async () => {
    const bodies: LentBody[] = [];
    let arrived = 0;
    let release!: () => void;
    const bothIn = new Promise<void>((r) => (release = r));
    const url = await serve(1 << 20, async (body) => {
      bodies.push(body);
      if (++arrived === 2) release();
      // Neither gives its body back until both are read.
      await bothIn;
    });
    const first = post(url, ['A'.repeat(70_000)]);
    const second = post(url, ['B'.repeat(70_000)]);
    await Promise.all([first, second]);
    const texts = bodies.map((b) => b.bytes.toString('latin1')).sort();
    expect(texts).toEqual(['A'.repeat(70_000), 'B'.repeat(70_000)]);
    for (const body of bodies) body.release();
  });

  test('a body over the limit is refused with 413, and the next one is read', async () => {
    const seen: string[] = [];
    const url = await serve(10, (body) => {
      seen.push(body.bytes.toString('utf8'));
      body.release();
    });
    const over = await post(url, ['12345', '678901234']);
    expect(over.status).toBe(413);
    expect(over.text).toMatch(/exceeds the limit of 10/);
    expect((await post(url, ['1234567890'])).status).toBe(200);
    expect(seen).toEqual(['1234567890']);
  });
});
