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
import { connectRaw, hello } from '../helpers/raw-socket.js';

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

    // 1-12: malformed messages after a valid handshake get an error frame.
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
    await expectErrorAfterHello(
      master,
      '{"type":"results","results":[]}',
      invalid,
    );
    await expectErrorAfterHello(
      master,
      '{"type":"results","results":[{"lease":-1,"ok":true,"output":1}]}',
      invalid,
    );
    await expectErrorAfterHello(
      master,
      JSON.stringify({
        type: 'results',
        results: [
          { lease: 1, ok: false, error: 'x'.repeat(10_000), kind: 'error' },
        ],
      }),
      invalid,
    );
    await expectErrorAfterHello(
      master,
      `${'['.repeat(100_000)}${']'.repeat(100_000)}`.slice(0, 60_000),
      invalid,
    );
    await expectErrorAfterHello(master, hello(), invalid); // hello twice
    // 13: binary garbage where a message is expected.
    await expectErrorAfterHello(
      master,
      Buffer.from([0xff, 0x00, 0x13, 0x37, 0x01]),
      invalid,
    );
    // 14: a binary frame whose header lies about its blobs.
    const header = Buffer.from('{"m":{"type":"ready","credit":1},"b":[999]}');
    const lying = Buffer.concat([Buffer.alloc(4), header]);
    lying.writeUInt32LE(header.length, 0);
    await expectErrorAfterHello(master, lying, invalid);
    // 15: __proto__ keys: refused by the strict schema, and nothing is polluted.
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
    // 16: a message naming another worker (a worker has no say in its id): refused.
    await expectErrorFirst(master, hello({ workerId: 'w1' }), invalid);
    // 17: a result for a lease nobody was given.
    await expectErrorAfterHello(
      master,
      JSON.stringify({
        type: 'results',
        results: [{ lease: 123_456, ok: true, output: 1 }],
      }),
      ErrorCode.UnknownLease,
    );

    // 18-19: before the handshake: refused and closed.
    await expectCloseFirst(
      master,
      '{"type":"ready","credit":5}',
      CloseCode.HandshakeRequired,
    );
    await expectCloseFirst(
      master,
      JSON.stringify({
        type: 'results',
        results: [{ lease: 1, ok: true, output: 1 }],
      }),
      CloseCode.HandshakeRequired,
    );
    // 20: a protocol version this master does not speak.
    await expectCloseFirst(
      master,
      hello({ protocol: 99 }),
      CloseCode.ProtocolMismatch,
    );
    // 21: oversized frame: ws closes with 1009.
    await expectCloseFirst(
      master,
      'x'.repeat(100 * 1024),
      CloseCode.MessageTooBig,
    );
    // 22: invalid UTF-8 in a text frame: 1007.
    {
      const peer = await connectRaw(master.url);
      peer.socket.send(Buffer.from([0x7b, 0xc3, 0x28, 0x7d]), {
        binary: false,
      });
      expect((await peer.closed).code).toBe(1007);
    }
    // 23: persistent garbage: after 20 invalid messages the socket is closed with 4400.
    {
      const peer = await connectRaw(master.url);
      peer.send(hello());
      for (let i = 0; i < 25; i++) peer.send('nope');
      expect((await peer.closed).code).toBe(CloseCode.InvalidMessage);
    }
    // 24: an unmasked client frame (raw TCP): a protocol error, 1002.
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
    // 25: a WebSocket upgrade on another path: 404.
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
    const tasks = (await holder.next()) as unknown as {
      type: string;
      tasks: { lease: number; input: unknown }[];
    };
    expect(tasks.type).toBe('tasks');
    const lease = tasks.tasks[0]?.lease as number;
    expect(tasks.tasks[0]?.input).toEqual({ x: 7 });
    thief.send(
      JSON.stringify({
        type: 'results',
        results: [{ lease, ok: true, output: 666 }],
      }),
    );
    expect(await thief.next()).toMatchObject({
      type: 'error',
      code: ErrorCode.UnknownLease,
    });
    holder.send(
      JSON.stringify({
        type: 'results',
        results: [{ lease, ok: true, output: 49 }],
      }),
    );
    expect(await holder.next()).toEqual({ type: 'ack', leases: [lease] });
    // A second result for the same lease is not recorded again.
    holder.send(
      JSON.stringify({
        type: 'results',
        results: [{ lease, ok: true, output: 50 }],
      }),
    );
    const results = await collectResults(master.client, id);
    expect([...results.values()]).toEqual([{ index: 0, ok: true, output: 49 }]);
  });
});
