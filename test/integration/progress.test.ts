/**
 * Task progress through a real master: a worker's `progress` frames for the leases it
 * holds reach `partial` in GET /api/jobs and the dashboard's deltas; progress of leases
 * it does not hold is ignored; a lease that ended stops counting.
 */
import { describe, expect, test, vi } from 'vitest';
import { startTestMaster } from '../helpers/master.js';
import {
  asTasks,
  connectRaw,
  hello,
  results as resultsFrame,
  type RawPeer,
} from '../helpers/raw-socket.js';

const MODULE = 'export default (x) => x * x;';

/** A raw worker holding one task: its lease. */
async function workerWithTask(
  url: string,
): Promise<{ peer: RawPeer; lease: number }> {
  const peer = await connectRaw(url);
  peer.send(hello());
  expect((await peer.next()).type).toBe('welcome');
  peer.send(JSON.stringify({ type: 'ready', credit: 1 }));
  const tasks = asTasks(await peer.next());
  const lease = tasks.groups[0]?.leases[0];
  if (lease === undefined) throw new Error('a task expected');
  return { peer, lease };
}

const progress = (lease: number, fraction: number) =>
  JSON.stringify({ type: 'progress', lease, fraction });

describe('task progress', () => {
  test('reaches partial for leases the sender holds, and only while they run', async () => {
    const master = await startTestMaster({ publishMs: 50 });
    const { id } = await master.client.submit({
      name: 'long',
      module: MODULE,
      inputs: [1, 2],
    });
    const partial = async () => (await master.client.job(id)).partial;
    expect(await partial()).toBe(0);

    const dashboard = await connectRaw(master.url);
    dashboard.send(JSON.stringify({ type: 'watch', protocol: 3 }));
    expect((await dashboard.next()).type).toBe('snapshot');

    const a = await workerWithTask(master.url);
    const b = await workerWithTask(master.url);
    a.peer.send(progress(a.lease, 0.5));
    await vi.waitFor(async () => expect(await partial()).toBe(0.5));

    // Someone else's lease, a lease never issued: ignored, without an error frame.
    b.peer.send(progress(a.lease, 0.9));
    a.peer.send(progress(123_456_789, 1));
    b.peer.send(progress(b.lease, 0.25));
    await vi.waitFor(async () => expect(await partial()).toBe(0.75));
    expect((await master.client.jobs())[0]?.partial).toBe(0.75);

    // The dashboard hears it in a delta.
    await vi.waitFor(
      async () => {
        const message = await dashboard.next();
        const jobs = (message.jobs ?? []) as { id: string; partial: number }[];
        expect(jobs.find((job) => job.id === id)?.partial).toBe(0.75);
      },
      { timeout: 5_000 },
    );

    // A's task ends: its fraction no longer counts; a late report of it is ignored.
    a.peer.send(resultsFrame([a.lease], [1]));
    expect(await a.peer.next()).toEqual({ type: 'ack', count: 1 });
    a.peer.send(progress(a.lease, 0.8));
    await vi.waitFor(async () => expect(await partial()).toBe(0.25));

    b.peer.send(resultsFrame([b.lease], [4]));
    expect(await b.peer.next()).toEqual({ type: 'ack', count: 1 });
    await vi.waitFor(async () =>
      expect(await master.client.job(id)).toMatchObject({
        state: 'completed',
        partial: 0,
      }),
    );
  });

  test('a worker that leaves takes its progress with it', async () => {
    const master = await startTestMaster({ publishMs: 50 });
    const { id } = await master.client.submit({
      name: 'dropped',
      module: MODULE,
      inputs: [1],
    });
    const a = await workerWithTask(master.url);
    a.peer.send(progress(a.lease, 0.6));
    await vi.waitFor(async () =>
      expect((await master.client.job(id)).partial).toBe(0.6),
    );
    a.peer.socket.terminate();
    await vi.waitFor(async () =>
      expect(await master.client.job(id)).toMatchObject({
        partial: 0,
        counts: { queued: 1, running: 0 },
      }),
    );
  });
});
