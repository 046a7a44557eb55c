// ColonyClient.results: a failed line keeps its code; one from a master older than
// failure codes reads as E_TASK_FAILED.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, expect, test } from 'vitest';
import { ColonyClient } from '../../../server/client/index.js';

let server: http.Server | undefined;

afterEach(async () => {
  await new Promise((resolve) => server?.close(resolve));
  server = undefined;
});

/** A stand-in master that answers every request with these NDJSON lines. */
async function serve(lines: string[]): Promise<string> {
  server = http.createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/x-ndjson' });
    res.end(lines.map((line) => `${line}\n`).join(''));
  });
  await new Promise<void>((resolve) => server?.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

test('failed results keep their code, and old lines without one read as E_TASK_FAILED', async () => {
  const url = await serve([
    '{"index":0,"ok":true,"output":1}',
    '{"index":1,"ok":false,"error":"x","code":"E_TOO_MANY_DISPATCHES"}',
    '{"index":2,"ok":false,"error":"from an older master"}',
  ]);
  const lines = [];
  for await (const line of new ColonyClient({ url }).results('1'))
    lines.push(line);
  expect(lines).toEqual([
    { index: 0, ok: true, output: 1 },
    { index: 1, ok: false, error: 'x', code: 'E_TOO_MANY_DISPATCHES' },
    {
      index: 2,
      ok: false,
      error: 'from an older master',
      code: 'E_TASK_FAILED',
    },
  ]);
});
