/**
 * Modules are what they claim: a fake master serves, for a module hash, text whose
 * SHA-256 is not that hash. A real `colony worker` refuses to run it, says so in its
 * log, and reports the tasks failed (so a real master would hand them to others).
 */
import { createHash } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, onTestFinished, test } from 'vitest';
import { WebSocketServer } from 'ws';
import {
  PROTOCOL_VERSION,
  decodeWorkerMessage,
} from '../../shared/protocol.js';
import type { Hello, Results } from '../../shared/protocol.js';
import { spawnColony, waitForOutput } from '../helpers/master.js';

const GENUINE = 'export default (x) => x + 1;\n';
const TAMPERED = 'export default (x) => x + 1000;\n';
const HASH = createHash('sha256').update(GENUINE).digest('hex');

interface FakeMaster {
  url: string;
  hello: Promise<Hello>;
  results: Promise<Results>;
  moduleRequests: () => number;
}

/** Speaks just enough of the protocol to hand out 3 tasks of a tampered module. */
async function fakeMaster(): Promise<FakeMaster> {
  let requests = 0;
  const server = http.createServer((request, response) => {
    if (request.url === `/modules/${HASH}.js`) requests++;
    response.writeHead(200, { 'content-type': 'text/javascript' });
    response.end(TAMPERED);
  });
  const wss = new WebSocketServer({ server, path: '/ws' });
  let gotHello: (hello: Hello) => void = () => undefined;
  let gotResults: (results: Results) => void = () => undefined;
  const hello = new Promise<Hello>((resolve) => (gotHello = resolve));
  const results = new Promise<Results>((resolve) => (gotResults = resolve));
  wss.on('connection', (socket) => {
    socket.on('error', () => undefined);
    // A worker speaks after the master's challenge (this stand-in does not check the proof).
    socket.send(JSON.stringify({ type: 'challenge', nonce: 'bm9uY2U=' }));
    socket.on('message', (data: Buffer) => {
      const decoded = decodeWorkerMessage(data.toString('utf8'));
      if (!decoded.ok)
        throw new Error(`bad frame from the worker: ${data.toString()}`);
      const message = decoded.value;
      if (message.type === 'hello') {
        gotHello(message);
        socket.send(
          JSON.stringify({
            type: 'welcome',
            workerId: 'w1',
            heartbeatMs: 10_000,
            limits: { maxPayloadBytes: 1 << 20, maxBatch: 100, maxCredit: 100 },
          }),
        );
        socket.send(
          JSON.stringify({
            type: 'tasks',
            jobs: { j1: { module: HASH, timeoutMs: 30_000, name: 'tampered' } },
            groups: [
              {
                job: 'j1',
                leases: [1, 2, 3],
                indexes: [0, 1, 2],
                attempts: [1, 1, 1],
                inputs: [1, 2, 3],
              },
            ],
          }),
        );
      } else if (message.type === 'results') gotResults(message);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  onTestFinished(() => {
    wss.close();
    server.close();
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    hello,
    results,
    moduleRequests: () => requests,
  };
}

describe('module hash check', () => {
  for (const mode of ['bwrap', 'permission', 'none'] as const)
    test(`${mode}: a module whose text does not match its hash is refused, loudly, and its tasks fail`, async () => {
      const master = await fakeMaster();
      const worker = spawnColony([
        'worker',
        master.url,
        '--threads',
        '1',
        '--sandbox',
        mode,
      ]);
      const hello = await master.hello;
      expect(hello).toMatchObject({
        protocol: PROTOCOL_VERSION,
        kind: 'node',
        sandbox: mode,
      });
      const results = await master.results;
      expect(results.leases).toEqual([]);
      expect(results.failures?.map((f) => f.lease).sort()).toEqual([1, 2, 3]);
      for (const failure of results.failures ?? [])
        expect(failure.error).toContain(`refused the module ${HASH}`);
      expect(master.moduleRequests()).toBeGreaterThanOrEqual(1);
      await waitForOutput(
        worker,
        (text) => text.includes('refused the module'),
        'stderr',
      );
      expect(worker.child.exitCode).toBeNull();
    });
});
