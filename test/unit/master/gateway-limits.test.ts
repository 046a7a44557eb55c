import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { describe, expect, onTestFinished, test } from 'vitest';
import WebSocket, { WebSocketServer } from 'ws';
import {
  AddressLimits,
  raiseMaxPayload,
} from '../../../server/master/gateway-limits.js';

describe('AddressLimits', () => {
  test('caps open connections and pending handshakes per address, and releases them', () => {
    const limits = new AddressLimits({
      maxConnectionsPerAddress: 3,
      maxHandshakesPerAddress: 2,
    });
    const a = limits.open('1.2.3.4');
    const b = limits.open('1.2.3.4');
    expect(limits.open('1.2.3.4')).toBe('handshakes');
    expect(typeof limits.open('5.6.7.8')).toBe('object'); // another address
    if (typeof a === 'string' || typeof b === 'string')
      throw new Error('refused');
    limits.admitted(a);
    const c = limits.open('1.2.3.4');
    expect(typeof c).toBe('object');
    expect(limits.open('1.2.3.4')).toBe('connections');
    limits.release(a);
    limits.release(a); // twice is harmless
    expect(limits.openFrom('1.2.3.4')).toBe(2);
    limits.admitted(b);
    expect(typeof limits.open('1.2.3.4')).toBe('object');
  });
});

describe('raiseMaxPayload (pins a private field of ws)', () => {
  test('a socket refused past the server limit accepts a larger frame once raised', async () => {
    const wss = new WebSocketServer({ port: 0, maxPayload: 1024 });
    onTestFinished(() => wss.close());
    await once(wss, 'listening');
    const port = (wss.address() as AddressInfo).port;
    const received: number[] = [];
    wss.on('connection', (socket) => {
      socket.on('error', () => undefined);
      socket.on('message', (data: Buffer) => {
        received.push(data.length);
        if (data.length === 1) raiseMaxPayload(socket, 64 * 1024);
        socket.send('ok');
      });
    });
    const client = new WebSocket(`ws://127.0.0.1:${port}`);
    onTestFinished(() => client.terminate());
    await once(client, 'open');
    client.send('x');
    await once(client, 'message');
    client.send('y'.repeat(10_000)); // over the server's 1 KiB, under the raised limit
    await once(client, 'message');
    expect(received).toEqual([1, 10_000]);
    // Without the raise, the same frame closes the socket with 1009.
    const other = new WebSocket(`ws://127.0.0.1:${port}`);
    other.on('error', () => undefined);
    await once(other, 'open');
    other.send('y'.repeat(10_000));
    const [code] = (await once(other, 'close')) as [number];
    expect(code).toBe(1009);
  });
});
