/**
 * A barrage of bad WebSocket input: each kind gets its documented error frame or close
 * code, nothing is polluted, and the same master then runs a normal job.
 */
import net from 'node:net';
import WebSocket from 'ws';
import { describe, expect, test } from 'vitest';
import { CloseCode, ErrorCode } from '../../shared/errors.js';
import {
  collectResults,
  fixtureModule,
  spawnWorker,
  startTestMaster,
} from '../helpers/master.js';
import { jobId } from '../helpers/ids.js';
import {
  asTasks,
  connectRaw,
  hello,
  results as resultsFrame,
} from '../helpers/raw-socket.js';

type Master = Awaited<ReturnType<typeof startTestMaster>>;

/** Sends a frame after a valid hello and expects an error frame with `code`. */
async function expectErrorAfterHello(
  master: Master,
  frame: string | Buffer,
  code: string,
) {
  const peer = await connectRaw(master.url);
  peer.send(hello());
  expect((await peer.next()).type).toBe('welcome');
  peer.send(frame);
  const reply = await peer.next();
  expect(reply).toMatchObject({ type: 'error', code });
  return peer;
}

/** Sends a frame as the first message and expects an error frame with `code`. */
async function expectErrorFirst(master: Master, frame: string, code: string) {
  const peer = await connectRaw(master.url);
  peer.send(frame);
  expect(await peer.next()).toMatchObject({ type: 'error', code });
}

/** Sends a frame as the first message and expects the socket closed with `code`. */
async function expectCloseFirst(
  master: Master,
  frame: string | Buffer,
  code: number,
) {
  const peer = await connectRaw(master.url);
  peer.send(frame);
  expect((await peer.closed).code).toBe(code);
}

describe('bad WebSocket input', () => {
  test('every kind of garbage is refused as documented; the master keeps serving', async () => {
    const master = await startTestMaster({ maxPayloadBytes: 64 * 1024 });
    const invalid = ErrorCode.InvalidMessage;

    // 1-15: malformed messages after a valid handshake get an error frame.
    await expectErrorAfterHello(master, 'this is not json', invalid);
    await expectErrorAfterHello(master, '42', invalid);
    await expectErrorAfterHello(master, '{"type":"launch-missiles"}', invalid);
    await expectErrorAfterHello(
      master,
      '{"type":"ready","credit":"lots"}',
      invalid,
    );
    await expectErrorAfterHello(
      master,
      '{"type":"ready","credit":1.5}',
      invalid,
    );
    await expectErrorAfterHello(
      master,
      '{"type":"ready","credit":1e12}',
      invalid,
    );
    await expectErrorAfterHello(
      master,
      '{"type":"ready","credit":1,"extra":true}',
      invalid,
    );
    // Results: none at all, columns of unequal length, a bad lease, an oversized
    // error, the object-per-result shape of protocol 1.
    await expectErrorAfterHello(master, resultsFrame([], []), invalid);
    await expectErrorAfterHello(master, resultsFrame([1, 2], [1]), invalid);
    await expectErrorAfterHello(master, resultsFrame([-1], [1]), invalid);
    await expectErrorAfterHello(
      master,
      resultsFrame([], [], {
        failures: [{ lease: 1, error: 'x'.repeat(10_000), kind: 'error' }],
      }),
      invalid,
    );
    await expectErrorAfterHello(
      master,
      '{"type":"results","results":[{"lease":1,"ok":true,"output":1}]}',
      invalid,
    );
    await expectErrorAfterHello(
      master,
      `${'['.repeat(100_000)}${']'.repeat(100_000)}`.slice(0, 60_000),
      invalid,
    );
    await expectErrorAfterHello(master, hello(), invalid); // hello twice
    // 16: binary garbage where a message is expected.
    await expectErrorAfterHello(
      master,
      Buffer.from([0xff, 0x00, 0x13, 0x37, 0x01]),
      invalid,
    );
    // 17: a binary frame whose header lies about its blobs.
    const header = Buffer.from('{"m":{"type":"ready","credit":1},"b":[999]}');
    const lying = Buffer.concat([Buffer.alloc(4), header]);
    lying.writeUInt32LE(header.length, 0);
    await expectErrorAfterHello(master, lying, invalid);
    // 18: __proto__ keys: refused by the strict schema, and nothing is polluted.
    await expectErrorAfterHello(
      master,
      '{"type":"ready","credit":1,"__proto__":{"polluted":true}}',
      invalid,
    );
    await expectErrorFirst(
      master,
      '{"__proto__":{"polluted":true},"type":"hello"}',
      invalid,
    );
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    // 19: a message naming another worker (a worker has no say in its id): refused.
    await expectErrorFirst(master, hello({ workerId: 'w1' }), invalid);
    // 20: a result for a lease nobody was given.
    await expectErrorAfterHello(
      master,
      resultsFrame([123_456], [1]),
      ErrorCode.UnknownLease,
    );
    await expectErrorAfterHello(
      master,
      resultsFrame([], [], {
        failures: [{ lease: 123_457, error: 'boom', kind: 'error' }],
      }),
      ErrorCode.UnknownLease,
    );

    // 21-22: before the handshake: refused and closed.
    await expectCloseFirst(
      master,
      '{"type":"ready","credit":5}',
      CloseCode.HandshakeRequired,
    );
    await expectCloseFirst(
      master,
      resultsFrame([1], [1]),
      CloseCode.HandshakeRequired,
    );
    // 23: a protocol version this master does not speak.
    await expectCloseFirst(
      master,
      hello({ protocol: 99 }),
      CloseCode.ProtocolMismatch,
    );
    // 24: oversized frame: ws closes with 1009.
    await expectCloseFirst(
      master,
      'x'.repeat(100 * 1024),
      CloseCode.MessageTooBig,
    );
    // 25: invalid UTF-8 in a text frame: 1007.
    {
      const peer = await connectRaw(master.url);
      peer.socket.send(Buffer.from([0x7b, 0xc3, 0x28, 0x7d]), {
        binary: false,
      });
      expect((await peer.closed).code).toBe(1007);
    }
    // 26: persistent garbage: after 20 invalid messages the socket is closed with 4400.
    {
      const peer = await connectRaw(master.url);
      peer.send(hello());
      for (let i = 0; i < 25; i++) peer.send('nope');
      expect((await peer.closed).code).toBe(CloseCode.InvalidMessage);
    }
    // 27: an unmasked client frame (raw TCP): a protocol error, 1002.
    {
      const { port } = new URL(master.url);
      const socket = net.connect(Number(port), '127.0.0.1');
      socket.on('error', () => undefined);
      socket.write(
        'GET /ws HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
          'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n',
      );
      const reply = await new Promise<Buffer>((resolve) => {
        let data = Buffer.alloc(0);
        socket.on('data', (chunk: Buffer) => {
          data = Buffer.concat([data, chunk]);
          if (data.includes('\r\n\r\n')) {
            // Upgraded: now an unmasked text frame "hi".
            socket.write(Buffer.from([0x81, 0x02, 0x68, 0x69]));
          }
        });
        socket.on('close', () => resolve(data));
      });
      expect(reply.toString()).toMatch(/^HTTP\/1\.1 101/);
      // The close frame from the master carries 1002 (protocol error).
      const closeAt = reply.indexOf(Buffer.from([0x88]));
      expect(closeAt).toBeGreaterThan(0);
      expect(reply.readUInt16BE(closeAt + 2)).toBe(1002);
    }
    // 28: a WebSocket upgrade on another path: 404.
    {
      const stray = new WebSocket(`${master.url.replace('http', 'ws')}/not-ws`);
      const status = await new Promise<number>((resolve) => {
        stray.on('unexpected-response', (_req, res) =>
          resolve(res.statusCode ?? 0),
        );
        stray.on('error', () => undefined);
      });
      expect(status).toBe(404);
    }

    // After the barrage: the same master runs a normal job to the end.
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    spawnWorker(master.url, 1);
    const module = await fixtureModule('square.mjs');
    const inputs = Array.from({ length: 50 }, (_, x) => ({ x }));
    const { id } = await master.client.submit({
      name: 'after the barrage',
      module,
      inputs,
    });
    const results = await collectResults(master.client, id);
    expect([...results.values()].filter((r) => r.ok)).toHaveLength(50);
  });

  test('a result for a lease held by another worker is refused and not recorded', async () => {
    const master = await startTestMaster();
    const holder = await connectRaw(master.url);
    holder.send(hello());
    expect((await holder.next()).type).toBe('welcome');
    const thief = await connectRaw(master.url);
    thief.send(hello());
    expect((await thief.next()).type).toBe('welcome');
    const module = await fixtureModule('square.mjs');
    const { id } = await master.client.submit({
      name: 'one task',
      module,
      inputs: [{ x: 7 }],
    });
    holder.send('{"type":"ready","credit":1}');
    const tasks = asTasks(await holder.next());
    expect(tasks.groups).toHaveLength(1);
    const [group] = tasks.groups;
    expect(group).toMatchObject({ job: id, indexes: [0], inputs: [{ x: 7 }] });
    expect(tasks.jobs[jobId(id)]?.name).toBe('one task');
    const lease = group?.leases[0] as number;
    thief.send(resultsFrame([lease], [666]));
    expect(await thief.next()).toMatchObject({
      type: 'error',
      code: ErrorCode.UnknownLease,
    });
    holder.send(resultsFrame([lease], [49]));
    expect(await holder.next()).toEqual({ type: 'ack', count: 1 });
    // A second result for the same lease is not recorded again.
    holder.send(resultsFrame([lease], [50]));
    const results = await collectResults(master.client, id);
    expect([...results.values()]).toEqual([{ index: 0, ok: true, output: 49 }]);
  });

  test('results frames in columns: acks count the results committed, failures included', async () => {
    const master = await startTestMaster();
    const worker = await connectRaw(master.url);
    worker.send(hello({ slots: 3 }));
    expect((await worker.next()).type).toBe('welcome');
    const module = await fixtureModule('square.mjs');
    const n = 5;
    const { id } = await master.client.submit({
      name: 'five',
      module,
      inputs: Array.from({ length: n }, (_, x) => ({ x })),
    });
    worker.send(JSON.stringify({ type: 'ready', credit: n }));
    // The tasks come in columns (a frame or more); index i has input {x: i}.
    const byIndex = new Map<number, number>();
    while (byIndex.size < n) {
      const tasks = asTasks(await worker.next());
      for (const group of tasks.groups) {
        expect(group.job).toBe(id);
        expect(group.attempts.every((a) => a === 1)).toBe(true);
        group.indexes.forEach((index, i) => {
          expect(group.inputs[i]).toEqual({ x: index });
          byIndex.set(index, group.leases[i] as number);
        });
      }
    }
    const lease = (index: number) => byIndex.get(index) as number;
    // Three frames back to back: two successes; one success and one failure; one success.
    worker.send(resultsFrame([lease(0), lease(1)], [0, 1]));
    worker.send(
      resultsFrame([lease(2)], [4], {
        failures: [{ lease: lease(3), error: 'try again', kind: 'error' }],
      }),
    );
    worker.send(resultsFrame([lease(4)], [16]));
    // Frames that share a commit share an ack: 1 to 3 acks, counting 5 in all.
    const acks: number[] = [];
    while (acks.reduce((a, b) => a + b, 0) < n) {
      const ack = await worker.next();
      expect(ack).toEqual({ type: 'ack', count: expect.any(Number) as number });
      acks.push(ack.count as number);
    }
    expect(acks.reduce((a, b) => a + b, 0)).toBe(n);
    expect(acks.length).toBeLessThanOrEqual(3);
    // The failed task comes back for a second attempt; its result completes the job.
    worker.send(JSON.stringify({ type: 'ready', credit: 1 }));
    const retry = asTasks(await worker.next());
    expect(retry.groups).toEqual([
      {
        job: id,
        leases: [expect.any(Number)],
        indexes: [3],
        attempts: [2],
        inputs: [{ x: 3 }],
      },
    ]);
    const retryLease = retry.groups[0]?.leases[0] as number;
    expect(retryLease).toBeGreaterThan(lease(3));
    worker.send(resultsFrame([retryLease], [9]));
    expect(await worker.next()).toEqual({ type: 'ack', count: 1 });
    const results = await collectResults(master.client, id);
    expect([...results.values()].sort((a, b) => a.index - b.index)).toEqual(
      Array.from({ length: n }, (_, x) => ({
        index: x,
        ok: true,
        output: x * x,
      })),
    );
  });
});
