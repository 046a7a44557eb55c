/** A worker that stops reading is dropped once its send buffer passes the cap; its tasks run elsewhere. */
import { describe, expect, test } from 'vitest';
import type { Socket } from 'node:net';
import {
  collectResults,
  fixtureModule,
  spawnWorker,
  startTestMaster,
} from '../helpers/master.js';
import { connectRaw, hello } from '../helpers/raw-socket.js';

describe('backpressure', () => {
  test('a stalled reader is cut off past the buffer cap and its tasks are re-queued', async () => {
    // The default heartbeat (10 s), not a short one: the hoarder stops answering pings
    // once paused, and a short beat could cut it off as silent before its `ready` is
    // read (the event loop runs timers before it reads sockets, and it stalls for a
    // second or more on a loaded machine). The next beat after the tasks go out finds
    // its buffer over the cap; that check comes before the silence check.
    const master = await startTestMaster({ maxBufferedBytes: 1024 * 1024 });
    const module = await fixtureModule('square.mjs');
    const pad = 'x'.repeat(100_000);
    const n = 200;
    const inputs = Array.from({ length: n }, (_, x) => ({ x, pad }));
    const { id } = await master.client.submit({
      name: 'hoarded',
      module,
      inputs,
    });
    const hoarder = await connectRaw(master.url);
    // 64 slots: its allowance (2 per slot) is 128 tasks, ~13 MB, past the cap and
    // whatever the kernel's socket buffers hold.
    hoarder.send(hello({ slots: 64 }));
    expect((await hoarder.next()).type).toBe('welcome');
    // Stop reading from the kernel, then ask for everything: its allowance heads our way.
    (hoarder.socket as unknown as { _socket: Socket })._socket.pause();
    hoarder.send(JSON.stringify({ type: 'ready', credit: n }));
    // The credit went to the hoarder at once: a worker can only finish after it is cut off.
    spawnWorker(master.url, 1);
    const results = await collectResults(master.client, id);
    expect(results.size).toBe(n);
    for (const [x, line] of results)
      expect(line).toEqual({ index: x, ok: true, output: x * x });
    const metrics = await (await fetch(`${master.url}/metrics`)).text();
    expect(metrics).toMatch(/^colony_ws_slow_consumers_total [1-9]/m);
    expect((await master.client.workers()).map((w) => w.kind)).toEqual([
      'node',
    ]);
  });
});
