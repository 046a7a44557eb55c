/**
 * docs/protocol.md, rule by rule, against a real master process and a hand-written
 * `ws` client (no colony code): connection, handshake, credit, errors, closing. Each
 * test is named after the sentence of the document it proves. Leases, results, cancels
 * and retries: protocol-conformance-leases.test.ts.
 */
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  cancelJob,
  connect,
  newKeys,
  proof,
  startWireMaster,
  submit,
  takeTasks,
  tasksOf,
  worker,
  workersOf,
} from '../helpers/wire.js';

const keys = (value: unknown) => Object.keys(value as object).sort();

describe('docs/protocol.md: connection and handshake', () => {
  it('"a client that offers permessage-deflate connects, and the extension is not agreed"', async () => {
    const { url } = await startWireMaster();
    const peer = await connect(url, { perMessageDeflate: true });
    expect(peer.socket.extensions).toBe('');
    peer.send({ type: 'hello', protocol: 3, kind: 'node', slots: 1 });
    expect((await peer.next()).type).toBe('welcome');
  });

  it('"The master\'s messages carry exactly the keys listed on this page": the welcome', async () => {
    const { url } = await startWireMaster();
    const { welcome } = await worker(url);
    expect(keys(welcome)).toEqual([
      'heartbeatMs',
      'limits',
      'type',
      'workerId',
    ]);
    expect(welcome.limits).toEqual({
      maxPayloadBytes: 64 * 1024 * 1024,
      maxBatch: 10_000,
      maxCredit: 100_000,
    });
    expect(welcome.heartbeatMs).toBe(10_000);
  });

  it('"A hello whose protocol is not 3 gets an error frame E_PROTOCOL_MISMATCH, then close 4426."', async () => {
    const { url } = await startWireMaster();
    const peer = await connect(url);
    // A protocol-2 worker: no volunteer proof; the reason names both versions.
    peer.socket.send(
      JSON.stringify({ type: 'hello', protocol: 2, kind: 'node', slots: 1 }),
    );
    const error = await peer.expect('error');
    expect(keys(error)).toEqual(['code', 'message', 'type']);
    expect(error.code).toBe('E_PROTOCOL_MISMATCH');
    expect(error.message).toMatch(/protocol 3, not 2/);
    expect((await peer.closed).code).toBe(4426);
  });

  it('"The master\'s first frame on every socket is a challenge: a nonce of 32 random bytes, base64, new on every connection."', async () => {
    const { url } = await startWireMaster();
    const a = await connect(url);
    const b = await connect(url);
    expect(keys(a.challenge)).toEqual(['nonce', 'type']);
    const nonce = a.challenge.nonce as string;
    expect(Buffer.from(nonce, 'base64')).toHaveLength(32);
    expect(b.challenge.nonce).not.toBe(nonce);
  });

  it('"A hello without volunteer, or whose signature does not verify, gets an error frame E_BAD_IDENTITY, then close 4403."', async () => {
    const { url } = await startWireMaster();
    const host = new URL(url).host;
    const base = { type: 'hello', protocol: 3, kind: 'node', slots: 1 };
    const unsigned = await connect(url);
    unsigned.socket.send(JSON.stringify(base));
    expect((await unsigned.expect('error')).code).toBe('E_BAD_IDENTITY');
    expect((await unsigned.closed).code).toBe(4403);
    // Signed for another socket's nonce: a replayed proof.
    const other = await connect(url);
    const replay = await connect(url);
    replay.send({
      ...base,
      volunteer: proof(replay.keys, host, other.challenge.nonce as string),
    });
    expect((await replay.expect('error')).code).toBe('E_BAD_IDENTITY');
    expect((await replay.closed).code).toBe(4403);
    // Signed for another master's host.
    const elsewhere = await connect(url);
    elsewhere.send({
      ...base,
      volunteer: proof(
        elsewhere.keys,
        'example.org',
        elsewhere.challenge.nonce as string,
      ),
    });
    expect((await elsewhere.expect('error')).code).toBe('E_BAD_IDENTITY');
    // Another key than the one that signed.
    const swapped = await connect(url);
    swapped.send({
      ...base,
      volunteer: {
        ...proof(swapped.keys, host, swapped.challenge.nonce as string),
        publicKey: other.keys.publicKey,
      },
    });
    expect((await swapped.expect('error')).code).toBe('E_BAD_IDENTITY');
  });

  it('"The volunteer id is the first 16 hex digits of the SHA-256 of the SPKI bytes; GET /api/workers shows it"', async () => {
    const { url } = await startWireMaster();
    const keysOf = newKeys();
    await connect(url, {}, keysOf).then(async (peer) => {
      peer.send({ type: 'hello', protocol: 3, kind: 'node', slots: 1 });
      await peer.expect('welcome');
    });
    const id = createHash('sha256')
      .update(Buffer.from(keysOf.publicKey, 'base64'))
      .digest('hex')
      .slice(0, 16);
    const workers = (await (await fetch(`${url}/api/workers`)).json()) as {
      volunteer: string;
      disagreed: number;
    }[];
    expect(workers).toMatchObject([{ volunteer: id, disagreed: 0 }]);
  });

  it('"A hello that does not match its schema gets an error frame E_INVALID_MESSAGE and the socket stays open"', async () => {
    const { url } = await startWireMaster();
    const peer = await connect(url);
    peer.send({ type: 'hello', protocol: 3, kind: 'node', slots: 0 });
    expect(await peer.expect('error')).toMatchObject({
      code: 'E_INVALID_MESSAGE',
    });
    peer.send({
      type: 'hello',
      protocol: 3,
      kind: 'node',
      slots: 1,
      colour: 'red',
    });
    expect(await peer.expect('error')).toMatchObject({
      code: 'E_INVALID_MESSAGE',
    });
    // Still waiting for a good hello.
    peer.send({ type: 'hello', protocol: 3, kind: 'node', slots: 1 });
    expect((await peer.next()).type).toBe('welcome');
  });

  it('"A socket that sends no valid hello or watch within 10 s of connecting is closed with 4401, without an error frame."', async () => {
    const { url } = await startWireMaster();
    const peer = await connect(url);
    peer.send({ type: 'hello', protocol: 3, kind: 'node' }); // invalid: no slots
    expect(await peer.expect('error')).toMatchObject({
      code: 'E_INVALID_MESSAGE',
    });
    const { code } = await peer.closed;
    expect(code).toBe(4401);
    expect(peer.pending()).toEqual([]);
  });

  it('"Any other valid message before hello gets an error frame E_HANDSHAKE_REQUIRED, then close 4401."', async () => {
    const { url } = await startWireMaster();
    const peer = await connect(url);
    peer.send({ type: 'ready', credit: 1 });
    expect(await peer.expect('error')).toMatchObject({
      code: 'E_HANDSHAKE_REQUIRED',
    });
    expect((await peer.closed).code).toBe(4401);
  });

  it('"A second hello on the same socket gets E_INVALID_MESSAGE ("hello sent twice") and is otherwise ignored"', async () => {
    const { url } = await startWireMaster();
    const peer = await worker(url);
    peer.send({ type: 'hello', protocol: 3, kind: 'node', slots: 4 });
    expect(await peer.expect('error')).toMatchObject({
      code: 'E_INVALID_MESSAGE',
      message: expect.stringMatching(/hello sent twice/),
    });
    const workers = await workersOf(url);
    expect(workers.map((w) => w.id)).toEqual([peer.welcome.workerId]);
    await submit(url, [1]);
    peer.send({ type: 'ready', credit: 1 });
    expect(tasksOf(await peer.expect('tasks'))).toHaveLength(1);
  });

  it('"the module\'s hash is the SHA-256 of exactly the module text that was submitted, and GET /modules/<hash>.js serves exactly that text"', async () => {
    const { url } = await startWireMaster();
    const module = 'export default (x) => `é${x}`; // not ASCII\n';
    await submit(url, [1], {}, module);
    const peer = await worker(url);
    peer.send({ type: 'ready', credit: 1 });
    const frame = await peer.expect('tasks');
    const hash = createHash('sha256').update(module, 'utf8').digest('hex');
    expect(Object.values(frame.jobs as object)[0]).toMatchObject({
      module: hash,
    });
    const response = await fetch(`${url}/modules/${hash}.js`); // no token
    expect(response.status).toBe(200);
    expect(await response.text()).toBe(module);
  });
});

describe('docs/protocol.md: credit', () => {
  it('"credit is an integer from 1 to limits.maxCredit (100,000); any other value makes the frame invalid and grants nothing"', async () => {
    const { url } = await startWireMaster();
    await submit(url, [1, 2]);
    const peer = await worker(url);
    for (const credit of [0, 100_001, 1.5, -1]) {
      peer.send({ type: 'ready', credit });
      expect(await peer.expect('error')).toMatchObject({
        code: 'E_INVALID_MESSAGE',
      });
    }
    expect(await peer.fence()).toEqual([]); // no task came: nothing was granted
    peer.send({ type: 'ready', credit: 100_000 });
    expect(await takeTasks(peer, 2)).toHaveLength(2);
  });

  it('"A worker starts with no credit: it gets no task before its first grant."', async () => {
    const { url } = await startWireMaster();
    await submit(url, [1, 2, 3]);
    const peer = await worker(url);
    expect(await peer.fence()).toEqual([]);
    peer.send({ type: 'ready', credit: 2 });
    const frame = await peer.expect('tasks');
    expect(keys(frame)).toEqual(['groups', 'jobs', 'type']);
    expect(tasksOf(frame)).toHaveLength(2);
  });

  it('"The master never sends more tasks than the credit granted and not yet used", and credit is additive', async () => {
    const { url } = await startWireMaster();
    await submit(
      url,
      Array.from({ length: 10 }, (_, i) => i),
    );
    const peer = await worker(url, 3);
    peer.send({ type: 'ready', credit: 3 });
    peer.send({ type: 'ready', credit: 2 });
    const tasks = await takeTasks(peer, 5);
    expect(tasks).toHaveLength(5);
    expect(await peer.fence()).toEqual([]);
  });

  it('"Nor more than the worker\'s allowance in flight: 2 tasks per slot at first, two more for each result it returns on a live lease"', async () => {
    const { url } = await startWireMaster(['--store', 'memory']);
    await submit(
      url,
      Array.from({ length: 1_000 }, (_, i) => i),
    );
    const peer = await worker(url, 2);
    peer.send({ type: 'ready', credit: 100_000 });
    let held = await takeTasks(peer, 4);
    expect(await peer.fence()).toEqual([]); // 100,000 credit, but 4 held is all
    const sizes = [held.length];
    for (let round = 0; round < 3; round++) {
      peer.send({
        type: 'results',
        leases: held.map((t) => t.lease),
        outputs: held.map((t) => t.input),
      });
      held = [];
      for (
        let frame = await peer.next();
        frame.type !== 'ack';
        frame = await peer.next()
      )
        if (frame.type === 'tasks') held.push(...tasksOf(frame));
      sizes.push(held.length);
    }
    expect(sizes).toEqual([4, 12, 36, 108]);
  });

  it('"The master keeps at most limits.maxCredit unused credit per worker: a grant past that is cut to it, without an error."', async () => {
    const { url } = await startWireMaster(['--store', 'memory']);
    const peer = await worker(url, 64);
    peer.send({ type: 'ready', credit: 100_000 });
    peer.send({ type: 'ready', credit: 100_000 });
    expect(await peer.fence()).toEqual([]); // no error for the second grant
    await submit(
      url,
      Array.from({ length: 100_010 }, (_, i) => i),
    );
    // What a worker may hold at once is its allowance: answer everything held, each
    // round, until no more tasks come.
    let held = await takeTasks(peer, 128);
    let received = held.length;
    for (;;) {
      peer.send({
        type: 'results',
        leases: held.map((t) => t.lease),
        outputs: held.map(() => 0),
      });
      held = [];
      for (
        let frame = await peer.next();
        frame.type !== 'ack';
        frame = await peer.next()
      )
        if (frame.type === 'tasks') held.push(...tasksOf(frame));
      if (held.length === 0) break;
      received += held.length;
    }
    expect(received).toBe(100_000);
  });

  it('"at most limits.maxBatch (10,000) in one frame, and one frame per worker for each event the master handles"', async () => {
    const { url } = await startWireMaster(['--store', 'memory']);
    await submit(
      url,
      Array.from({ length: 10_005 }, (_, i) => i),
    );
    const peer = await worker(url, 64);
    peer.send({ type: 'ready', credit: 10_003 });
    // The allowance (2 per slot at first) bounds the first frame.
    const first = tasksOf(await peer.expect('tasks'));
    expect(first).toHaveLength(128);
    expect(await peer.fence()).toEqual([]); // credit left, work queued: it waits
    // One results frame is one event: one tasks frame, then the ack.
    peer.send({
      type: 'results',
      leases: first.map((t) => t.lease),
      outputs: first.map(() => 0),
    });
    // 128 answered: the allowance grows by 2 each, to 384.
    expect(tasksOf(await peer.expect('tasks'))).toHaveLength(384);
    expect(await peer.expect('ack')).toEqual({ type: 'ack', count: 128 });
    expect(await peer.fence()).toEqual([]);
  });

  it('"Each task sent uses one credit, and nothing ever gives it back: not a result, not a cancel"', async () => {
    const { url } = await startWireMaster();
    const first = await submit(url, [1, 2, 3]);
    const peer = await worker(url);
    peer.send({ type: 'ready', credit: 2 });
    const [a, b] = await takeTasks(peer, 2);
    peer.send({ type: 'results', leases: [a!.lease], outputs: [2] });
    expect(await peer.expect('ack')).toEqual({ type: 'ack', count: 1 });
    await cancelJob(url, first);
    expect(await peer.expect('cancel')).toEqual({
      type: 'cancel',
      leases: [b!.lease],
    });
    await submit(url, [4]);
    expect(await peer.fence()).toEqual([]); // no credit left: neither came back
    // "A cancel does not give the credit back: grant it again"
    peer.send({ type: 'ready', credit: 1 });
    expect(tasksOf(await peer.expect('tasks'))[0]).toMatchObject({ index: 0 });
  });
});

describe('docs/protocol.md: errors and closing', () => {
  it('"A malformed message gets E_INVALID_MESSAGE and the socket stays open; the 20th one on a socket is answered, then the socket is closed with 4400."', async () => {
    const { url } = await startWireMaster();
    const peer = await worker(url);
    for (let n = 1; n <= 20; n++) {
      peer.socket.send(
        n % 2 ? 'not json' : '{"type":"ready","credit":1,"x":1}',
      );
      expect(await peer.expect('error')).toMatchObject({
        code: 'E_INVALID_MESSAGE',
      });
    }
    expect((await peer.closed).code).toBe(4400);
  });

  it('"the master rejects a message with an unknown key as E_INVALID_MESSAGE"', async () => {
    const { url } = await startWireMaster();
    await submit(url, [1]);
    const peer = await worker(url);
    peer.send({ type: 'ready', credit: 1, priority: 'high' });
    expect(await peer.expect('error')).toMatchObject({
      code: 'E_INVALID_MESSAGE',
    });
    peer.send({ type: 'ready', credit: 1 });
    const [task] = await takeTasks(peer, 1);
    peer.send({
      type: 'results',
      leases: [task!.lease],
      outputs: [2],
      note: 'x',
    });
    expect(await peer.expect('error')).toMatchObject({
      code: 'E_INVALID_MESSAGE',
    });
  });

  it('"A socket that has not answered the previous ping is terminated without a close frame: the worker sees 1006", and its tasks are handed to others', async () => {
    // Not a very short beat: the live peer below answers pings from this process, which
    // on a loaded machine can stall for a few hundred ms and be cut off as well.
    const { url } = await startWireMaster(['--heartbeat-ms', '2000']);
    await submit(url, [7]);
    const frozen = await worker(url);
    frozen.send({ type: 'ready', credit: 1 });
    const [task] = await takeTasks(frozen, 1);
    frozen.socket.pause(); // frozen: reads nothing, answers no ping
    const other = await worker(url);
    other.send({ type: 'ready', credit: 1 });
    const [again] = await takeTasks(other, 1);
    expect(again).toMatchObject({ index: task!.index, attempt: 2 });
    frozen.socket.resume();
    expect((await frozen.closed).code).toBe(1006);
  });

  it('"only a pong counts, other frames do not"', async () => {
    const { url } = await startWireMaster(['--heartbeat-ms', '100']);
    const peer = await connect(url, { autoPong: false });
    peer.send({ type: 'hello', protocol: 3, kind: 'node', slots: 1 });
    await peer.expect('welcome');
    // Busy, but deaf to pings: every ping is answered with a frame that is not a pong.
    peer.socket.on('ping', () =>
      peer.send({ type: 'progress', lease: 1, fraction: 0 }),
    );
    expect((await peer.closed).code).toBe(1006);
  });

  it('"When the master shuts down it closes every socket with 1001 (going away), without an error frame before it"', async () => {
    const master = await startWireMaster();
    const peer = await worker(master.url);
    master.stop();
    expect((await peer.closed).code).toBe(1001);
    expect(peer.pending()).toEqual([]);
    expect(await master.exited).toBe(0);
  });

  it('"When the socket closes for any reason, the master returns the worker\'s tasks to the queue at once"', async () => {
    const { url } = await startWireMaster();
    await submit(url, [5]);
    const leaving = await worker(url);
    leaving.send({ type: 'ready', credit: 1 });
    const [task] = await takeTasks(leaving, 1);
    const other = await worker(url);
    other.send({ type: 'ready', credit: 1 });
    expect(await other.fence()).toEqual([]); // the only task is held
    leaving.socket.close(1000);
    const [again] = await takeTasks(other, 1);
    expect(again).toMatchObject({ index: task!.index, input: 5 });
    expect(again!.lease).not.toBe(task!.lease);
  });

  it('"results for them on a new connection get E_UNKNOWN_LEASE": leases die with their connection', async () => {
    const { url } = await startWireMaster();
    await submit(url, [5, 6]);
    const first = await worker(url);
    first.send({ type: 'ready', credit: 1 });
    const [task] = await takeTasks(first, 1);
    first.socket.close(1000);
    await first.closed;
    const second = await worker(url);
    expect(second.welcome.workerId).not.toBe(first.welcome.workerId);
    second.send({ type: 'results', leases: [task!.lease], outputs: [10] });
    expect(await second.expect('error')).toMatchObject({
      code: 'E_UNKNOWN_LEASE',
    });
    expect(await second.expect('ack')).toEqual({ type: 'ack', count: 1 });
  });
});
