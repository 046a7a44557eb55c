// A client's idle kept-alive connection outlives Node's agent's own 5 s: the master
// never closes it first, so a request written onto a reused socket is answered, not
// met by EPIPE or ECONNRESET (seen under load with both sides at 5 s).
import http from 'node:http';
import { setTimeout as delay } from 'node:timers/promises';
import { expect, test } from 'vitest';
import { startTestMaster } from '../helpers/master.js';

function get(url: string, agent: http.Agent) {
  return new Promise<{ status: number; reused: boolean }>((resolve, reject) => {
    const request = http.get(url, { agent }, (response) => {
      response.resume();
      response.on('end', () =>
        resolve({
          status: response.statusCode ?? 0,
          reused: request.reusedSocket,
        }),
      );
    });
    request.on('error', reject);
  });
}

test('an idle kept-alive connection is still served after 7 s', async () => {
  const master = await startTestMaster();
  // This client keeps idle sockets for a minute: only the master could close it.
  const agent = new http.Agent({ keepAlive: true, timeout: 60_000 });
  try {
    const url = `${master.url}/healthz`;
    expect(await get(url, agent)).toEqual({ status: 200, reused: false });
    // The idle spell itself is what is tested: past the old 5 s on the master's side.
    await delay(7_000);
    expect(await get(url, agent)).toEqual({ status: 200, reused: true });
  } finally {
    agent.destroy();
  }
}, 30_000);
