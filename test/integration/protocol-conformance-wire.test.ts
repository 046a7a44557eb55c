/**
 * docs/protocol.md, rule by rule, continued: binary frames, the frame size limit, lease
 * numbers across restarts, and what a worker's way of leaving costs its tasks, against
 * a real master process and a hand-written `ws` client (no colony code).
 */
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  connect,
  packBinary,
  resultLines,
  startWireMaster,
  submit,
  takeTasks,
  worker,
} from '../helpers/wire.js';

describe('docs/protocol.md: frames', () => {
  it('"Both sides may send binary frames; a task whose input was bytes receives bytes."', async () => {
    const { url } = await startWireMaster();
    // Bytes over HTTP are {"$base64": ...} (README); on the socket they are raw.
    const job = await submit(url, [{ $base64: 'AQID' }, 5]);
    const peer = await worker(url);
    peer.send({ type: 'ready', credit: 2 });
    const tasks = await takeTasks(peer, 2);
    const bytes = tasks.find((t) => t.index === 0);
    expect(bytes?.input).toEqual(Buffer.from([1, 2, 3]));
    const plain = tasks.find((t) => t.index === 1);
    peer.socket.send(
      packBinary(
        {
          type: 'results',
          leases: [bytes!.lease, plain!.lease],
          outputs: [{ pixels: { $bin: 0 } }, 10],
        },
        [Buffer.from([9, 8])],
      ),
    );
    expect(await peer.expect('ack')).toEqual({ type: 'ack', count: 2 });
    expect((await resultLines(url, job)).sort()).toEqual([
      '{"index":0,"ok":true,"output":{"pixels":{"$base64":"CQg="}}}',
      '{"index":1,"ok":true,"output":10}',
    ]);
  });

  it('"Frames larger than limits.maxPayloadBytes close the socket with 1009" ("a sender still writing may see 1006 instead")', async () => {
    const { url } = await startWireMaster();
    const peer = await connect(url);
    peer.send({ type: 'hello', protocol: 3, kind: 'node', slots: 1 });
    const welcome = await peer.expect('welcome');
    const max = (welcome.limits as { maxPayloadBytes: number }).maxPayloadBytes;
    peer.socket.send(Buffer.alloc(max + 1));
    expect([1009, 1006]).toContain((await peer.closed).code);
  });

  it('"Leases are unique for the master\'s whole life, also across restarts"', async () => {
    const data = mkdtempSync(path.join(os.tmpdir(), 'colony-wire-restart-'));
    const first = await startWireMaster([], data);
    await submit(first.url, [1, 2]);
    const before = await worker(first.url);
    before.send({ type: 'ready', credit: 1 });
    const [old] = await takeTasks(before, 1);
    first.stop();
    await first.exited;
    const second = await startWireMaster([], data);
    const after = await worker(second.url);
    after.send({ type: 'ready', credit: 2 });
    const tasks = await takeTasks(after, 2);
    // The task held before the restart went back to the queue; its new lease is new.
    for (const task of tasks) expect(task.lease).toBeGreaterThan(old!.lease);
  });
});

describe('docs/protocol.md: leaving', () => {
  it('"A worker that drops without a clean close is counted as a death of up to slots of its oldest running tasks": three drops fail the task', async () => {
    const { url } = await startWireMaster();
    const job = await submit(url, [1]);
    for (let drop = 1; drop <= 3; drop++) {
      const peer = await worker(url);
      peer.send({ type: 'ready', credit: 1 });
      expect((await takeTasks(peer, 1))[0]).toMatchObject({ attempt: drop });
      peer.socket.terminate(); // no close frame: as a killed process
      await peer.closed;
    }
    const [line] = await resultLines(url, job);
    expect(JSON.parse(line!)).toMatchObject({
      index: 0,
      ok: false,
      code: 'E_TASK_KILLED_WORKERS',
      error: expect.stringMatching(/^killed its worker 3 times/),
    });
  });

  it('"close with 1000 when a worker stops on purpose": its tasks are not blamed', async () => {
    const { url } = await startWireMaster();
    await submit(url, [1]);
    for (let leave = 1; leave <= 3; leave++) {
      const peer = await worker(url);
      peer.send({ type: 'ready', credit: 1 });
      await takeTasks(peer, 1);
      peer.socket.close(1000);
      await peer.closed;
    }
    const last = await worker(url);
    last.send({ type: 'ready', credit: 1 });
    expect((await takeTasks(last, 1))[0]).toMatchObject({
      index: 0,
      attempt: 4,
    });
  });

  it('"E_TOO_MANY_DISPATCHES (dispatched 2 × (maxAttempts + 3) + 10 times without a result)"', async () => {
    const { url } = await startWireMaster();
    const job = await submit(url, [1], { maxAttempts: 1 });
    const bound = 2 * (1 + 3) + 10;
    for (let n = 1; n <= bound; n++) {
      const peer = await worker(url);
      peer.send({ type: 'ready', credit: 1 });
      expect((await takeTasks(peer, 1))[0]).toMatchObject({ attempt: n });
      peer.socket.close(1000); // a clean leave: no death, only a dispatch
      await peer.closed;
    }
    expect(await resultLines(url, job)).toEqual([
      `{"index":0,"ok":false,"error":"dispatched ${bound} times without a result","code":"E_TOO_MANY_DISPATCHES"}`,
    ]);
  });
});
