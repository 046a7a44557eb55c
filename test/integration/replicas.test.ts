/** replicas: a result is accepted only when distinct workers agree on it. */
import { describe, expect, test } from 'vitest';
import {
  collectResults,
  fixtureModule,
  spawnWorker,
  startTestMaster,
} from '../helpers/master.js';

describe('replicas', () => {
  test('each task runs on two distinct workers; agreeing outputs are recorded once', async () => {
    // All workers run on 127.0.0.1: count it as many addresses (each process is a
    // volunteer of its own, with its own identity file).
    const master = await startTestMaster({ distinctAddresses: false });
    spawnWorker(master.url, 1);
    spawnWorker(master.url, 1);
    const module = await fixtureModule('replica.mjs');
    const n = 50;
    const inputs = Array.from({ length: n }, (_, x) => ({ x, liar: x === 13 }));
    const { id } = await master.client.submit({
      name: 'replicated',
      module,
      inputs,
      options: { replicas: 2, maxAttempts: 1 },
    });
    spawnWorker(master.url, 1);
    spawnWorker(master.url, 1);
    const results = await collectResults(master.client, id);
    expect(results.size).toBe(n);
    for (const [x, line] of results) {
      if (x === 13)
        expect(line).toMatchObject({
          ok: false,
          error: expect.stringMatching(/agree|disagree/i),
          code: 'E_REPLICAS_DISAGREE',
        });
      else expect(line).toEqual({ index: x, ok: true, output: x * x });
    }
    // Every honest task was computed by two workers.
    const workers = await master.client.workers();
    const votes = workers.reduce((sum, w) => sum + w.done, 0);
    expect(votes).toBeGreaterThanOrEqual(2 * (n - 1));
  });
});
