/**
 * docs/protocol.md, rule by rule, continued: checkpoints (`checkpoint` frames and the
 * `resume` column), against a real master process and a hand-written `ws` client.
 */
import { describe, expect, it } from 'vitest';
import {
  connect,
  startWireMaster,
  submit,
  takeTasks,
  worker,
  type Frame,
  type WirePeer,
} from '../helpers/wire.js';

/** A worker whose `hello` says it understands `resume`, as colony's own do. */
async function resumingWorker(url: string): Promise<WirePeer> {
  const peer = await connect(url);
  peer.send({
    type: 'hello',
    protocol: 3,
    kind: 'node',
    slots: 1,
    resumes: true,
  });
  await peer.expect('welcome');
  return peer;
}

/** The `resume` column of the one group of a `tasks` frame. */
const resumeOf = (frame: Frame): unknown =>
  (frame.groups as { resume?: unknown }[])[0]?.resume;

describe('docs/protocol.md: checkpoints', () => {
  it('"The master keeps a checkpoint only from the worker holding the lease, while the lease is active and its task open; any other is ignored without an error frame and changes nothing"; the next dispatch carries the kept one in `resume`', async () => {
    const { url } = await startWireMaster();
    await submit(url, [7]);
    const holder = await resumingWorker(url);
    holder.send({ type: 'ready', credit: 1 });
    const [task] = await takeTasks(holder, 1);
    const stranger = await resumingWorker(url);
    stranger.send({
      type: 'checkpoint',
      lease: task!.lease,
      state: { step: 666 },
    });
    expect(await stranger.fence()).toEqual([]);
    holder.send({ type: 'checkpoint', lease: task!.lease, state: { step: 5 } });
    expect(await holder.fence()).toEqual([]);

    holder.socket.terminate();
    stranger.send({ type: 'ready', credit: 1 });
    const frame = await stranger.expect('tasks');
    expect(resumeOf(frame)).toEqual([{ at: 0, state: { step: 5 } }]);
  });

  it('"The master keeps at most one checkpoint per lease every 500 ms; one that follows the last kept one sooner is ignored without an error frame."', async () => {
    const { url } = await startWireMaster();
    await submit(url, [7]);
    const holder = await resumingWorker(url);
    holder.send({ type: 'ready', credit: 1 });
    const [task] = await takeTasks(holder, 1);
    holder.send({ type: 'checkpoint', lease: task!.lease, state: 'first' });
    holder.send({ type: 'checkpoint', lease: task!.lease, state: 'too soon' });
    expect(await holder.fence()).toEqual([]);
    holder.socket.terminate();
    const next = await resumingWorker(url);
    next.send({ type: 'ready', credit: 1 });
    expect(resumeOf(await next.expect('tasks'))).toEqual([
      { at: 0, state: 'first' },
    ]);
  });

  it('"A checkpoint larger than its job\'s maxCheckpointBytes gets an error frame E_CHECKPOINT_TOO_LARGE and is not kept"', async () => {
    const { url } = await startWireMaster();
    await submit(url, [7], { maxCheckpointBytes: 10 });
    const holder = await resumingWorker(url);
    holder.send({ type: 'ready', credit: 1 });
    const [task] = await takeTasks(holder, 1);
    // 12 bytes as stored: the JSON text "0123456789" with its quotes.
    holder.send({
      type: 'checkpoint',
      lease: task!.lease,
      state: '0123456789',
    });
    expect(await holder.expect('error')).toMatchObject({
      code: 'E_CHECKPOINT_TOO_LARGE',
    });
    holder.socket.terminate();
    const next = await resumingWorker(url);
    next.send({ type: 'ready', credit: 1 });
    expect(resumeOf(await next.expect('tasks'))).toBeUndefined();
  });

  it('a worker whose hello does not say `resumes` is never sent `resume`', async () => {
    const { url } = await startWireMaster();
    await submit(url, [7]);
    const holder = await resumingWorker(url);
    holder.send({ type: 'ready', credit: 1 });
    const [task] = await takeTasks(holder, 1);
    holder.send({ type: 'checkpoint', lease: task!.lease, state: 1 });
    expect(await holder.fence()).toEqual([]);
    holder.socket.terminate();
    const plain = await worker(url);
    plain.send({ type: 'ready', credit: 1 });
    const frame = await plain.expect('tasks');
    expect(Object.keys((frame.groups as object[])[0]!).sort()).toEqual([
      'attempts',
      'indexes',
      'inputs',
      'job',
      'leases',
    ]);
  });
});
