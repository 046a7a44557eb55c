/** Out-of-memory tasks and graceful shutdown, with real processes and sockets. */
import { describe, expect, test } from 'vitest';
import { CloseCode } from '../../shared/errors.js';
import {
  collectResults,
  fixtureModule,
  spawnWorker,
  startTestMaster,
} from '../helpers/master.js';
import { connectRaw, hello } from '../helpers/raw-socket.js';

describe('lifecycle', () => {
  test('a task that runs its thread out of memory is failed after 3 deaths; the worker lives on', async () => {
    const master = await startTestMaster();
    const worker = spawnWorker(master.url, 1, ['--memory-mb', '32']);
    const module = await fixtureModule('hog.mjs');
    const inputs = Array.from({ length: 20 }, (_, x) => ({ x, hog: x === 7 }));
    const { id } = await master.client.submit({ name: 'hog', module, inputs });
    const results = await collectResults(master.client, id);
    expect(results.size).toBe(20);
    for (const [x, line] of results) {
      if (x === 7)
        expect(line).toMatchObject({
          ok: false,
          error: expect.stringMatching(/3 times.*out of memory/),
          code: 'E_TASK_KILLED_WORKERS',
        });
      else expect(line).toEqual({ index: x, ok: true, output: x * 2 });
    }
    expect(worker.child.exitCode).toBeNull();
    expect(await master.client.workers()).toHaveLength(1);
  });

  test('shutdown closes every socket with 1001 (going away)', async () => {
    const master = await startTestMaster();
    const peer = await connectRaw(master.url);
    peer.send(hello());
    expect((await peer.next()).type).toBe('welcome');
    await master.close();
    expect((await peer.closed).code).toBe(CloseCode.GoingAway);
  });
});
