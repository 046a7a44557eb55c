/**
 * docs/protocol.md, rule by rule, continued: leases and their expiry, late results,
 * results and acks, cancels, retries, and the code of a failed task, against a real
 * master process and a hand-written `ws` client (no colony code).
 */
import { describe, expect, it } from 'vitest';
import {
  cancelJob,
  resultLines,
  startWireMaster,
  submit,
  takeTasks,
  worker,
} from '../helpers/wire.js';

/** The shortest lease a job may ask for: it expires 2 s (the grace) later. */
const SHORT = { timeoutMs: 50 };
const GRACE_MS = 2_000;

describe('docs/protocol.md: leases', () => {
  it('"The master expires a lease timeoutMs + 2 s after it sent it and hands the task to a worker with credit, under a new lease and attempt + 1"; "At expiry the holder gets no cancel, and no credit back."', async () => {
    const { url } = await startWireMaster();
    await submit(url, [3, 4], SHORT);
    const holder = await worker(url);
    const other = await worker(url);
    const asked = Date.now(); // the master sends the lease after this
    holder.send({ type: 'ready', credit: 1 });
    const [task] = await takeTasks(holder, 1);
    other.send({ type: 'ready', credit: 1 });
    const [second] = await takeTasks(other, 1); // the other task, at once
    other.send({ type: 'results', leases: [second!.lease], outputs: [0] });
    await other.expect('ack');
    other.send({ type: 'ready', credit: 1 });
    const [again] = await takeTasks(other, 1);
    // Never earlier than timeoutMs + grace after the lease was sent.
    expect(Date.now() - asked).toBeGreaterThanOrEqual(
      SHORT.timeoutMs + GRACE_MS,
    );
    expect(again).toMatchObject({
      index: task!.index,
      attempt: task!.attempt + 1,
    });
    expect(again!.lease).toBeGreaterThan(task!.lease);
    // The holder got no cancel, and has no credit for the task that is left.
    expect(await holder.fence()).toEqual([]);
  });

  it('"A late result is accepted if the task has no result yet; the worker that holds the task\'s newer lease then gets a cancel for it."', async () => {
    const { url } = await startWireMaster();
    const job = await submit(url, [21], SHORT);
    const late = await worker(url);
    late.send({ type: 'ready', credit: 1 });
    const [old] = await takeTasks(late, 1);
    const current = await worker(url);
    current.send({ type: 'ready', credit: 1 });
    const [newer] = await takeTasks(current, 1); // after the expiry
    late.send({ type: 'results', leases: [old!.lease], outputs: ['late'] });
    expect(await late.expect('ack')).toEqual({ type: 'ack', count: 1 });
    expect(await current.expect('cancel')).toEqual({
      type: 'cancel',
      leases: [newer!.lease],
    });
    expect(await resultLines(url, job)).toEqual([
      '{"index":0,"ok":true,"output":"late"}',
    ]);
  });

  it('"a cancel may come for a lease the worker already dropped (after its expiry, say); ignore it", and "If the task already has a result, the late one is ignored (no error) and acked."', async () => {
    const { url } = await startWireMaster();
    const job = await submit(url, [8], SHORT);
    const slow = await worker(url);
    slow.send({ type: 'ready', credit: 1 });
    const [old] = await takeTasks(slow, 1);
    const fast = await worker(url);
    fast.send({ type: 'ready', credit: 1 });
    const [newer] = await takeTasks(fast, 1);
    fast.send({ type: 'results', leases: [newer!.lease], outputs: ['fast'] });
    await fast.expect('ack');
    // The expired lease is cancelled too, now that the task has its result.
    expect(await slow.expect('cancel')).toEqual({
      type: 'cancel',
      leases: [old!.lease],
    });
    slow.send({ type: 'results', leases: [old!.lease], outputs: ['slow'] });
    expect(await slow.expect('ack')).toEqual({ type: 'ack', count: 1 });
    expect(await slow.fence()).toEqual([]); // no error frame
    expect(await resultLines(url, job)).toEqual([
      '{"index":0,"ok":true,"output":"fast"}',
    ]);
  });

  it('"three crash reports fail a task with E_TASK_KILLED_WORKERS, even for leases that had already expired"', async () => {
    const { url } = await startWireMaster();
    const job = await submit(url, [9], SHORT);
    const peer = await worker(url);
    peer.send({ type: 'ready', credit: 3 });
    const [first] = await takeTasks(peer, 1);
    const [second] = await takeTasks(peer, 1); // the same task, after the expiry
    expect(second).toMatchObject({ index: 0, attempt: 2 });
    const crash = (lease: number) => ({
      type: 'results',
      leases: [],
      outputs: [],
      failures: [{ lease, error: 'past its lease', kind: 'crash' }],
    });
    peer.send(crash(first!.lease)); // expired: counted all the same
    await peer.expect('ack');
    peer.send(crash(second!.lease));
    // Re-queued at once, and this worker is the only one: it comes back before the ack.
    const [third] = await takeTasks(peer, 1);
    await peer.expect('ack');
    peer.send(crash(third!.lease));
    await peer.expect('ack');
    expect(await resultLines(url, job)).toEqual([
      '{"index":0,"ok":false,"error":"killed its worker 3 times; last: past its lease","code":"E_TASK_KILLED_WORKERS"}',
    ]);
  });
});

describe('docs/protocol.md: results and acks', () => {
  it('"An invalid results frame gets E_INVALID_MESSAGE and is dropped whole: none of its results counts, it is not acked, and its credit is not granted."', async () => {
    const { url } = await startWireMaster();
    await submit(url, [1, 2]);
    const peer = await worker(url);
    peer.send({ type: 'ready', credit: 1 });
    const [task] = await takeTasks(peer, 1);
    peer.send({
      type: 'results',
      leases: [task!.lease],
      outputs: [],
      credit: 1,
    });
    expect(await peer.expect('error')).toMatchObject({
      code: 'E_INVALID_MESSAGE',
    });
    expect(await peer.fence()).toEqual([]); // no ack, no task for the credit
    peer.send({
      type: 'results',
      leases: [task!.lease],
      outputs: [2],
      credit: 1,
    });
    expect(await peer.expect('tasks')).toBeTruthy(); // "exactly as a ready would"
    expect(await peer.expect('ack')).toEqual({ type: 'ack', count: 1 });
  });

  it('"A result for a lease this worker was never given gets an error frame E_UNKNOWN_LEASE and is not recorded; the socket stays open", and "Every result of an acked frame is counted"', async () => {
    const { url } = await startWireMaster();
    const job = await submit(url, [1]);
    const peer = await worker(url);
    const thief = await worker(url);
    peer.send({ type: 'ready', credit: 1 });
    const [task] = await takeTasks(peer, 1);
    thief.send({
      type: 'results',
      leases: [task!.lease, 12_345],
      outputs: [0, 0],
    });
    expect(await thief.expect('error')).toMatchObject({
      code: 'E_UNKNOWN_LEASE',
    });
    expect(await thief.expect('error')).toMatchObject({
      code: 'E_UNKNOWN_LEASE',
    });
    expect(await thief.expect('ack')).toEqual({ type: 'ack', count: 2 });
    peer.send({ type: 'results', leases: [task!.lease], outputs: [2] });
    expect(await peer.expect('ack')).toEqual({ type: 'ack', count: 1 });
    expect(await resultLines(url, job)).toEqual([
      '{"index":0,"ok":true,"output":2}',
    ]);
  });

  it('"A result for a lease the master cancelled on this worker (it crossed the cancel) is ignored without an error."', async () => {
    const { url } = await startWireMaster();
    const job = await submit(url, [1, 2]);
    const peer = await worker(url);
    peer.send({ type: 'ready', credit: 2 });
    const tasks = await takeTasks(peer, 2);
    await cancelJob(url, job);
    const cancel = await peer.expect('cancel');
    expect((cancel.leases as number[]).sort()).toEqual(
      tasks.map((t) => t.lease).sort(),
    );
    peer.send({ type: 'results', leases: [tasks[0]!.lease], outputs: [2] });
    expect(await peer.expect('ack')).toEqual({ type: 'ack', count: 1 });
    expect(await peer.fence()).toEqual([]);
    expect(await resultLines(url, job)).toEqual([]);
  });

  it('"The master ignores progress for a lease the worker does not hold, silently, without an error frame"', async () => {
    const { url } = await startWireMaster();
    const peer = await worker(url);
    peer.send({ type: 'progress', lease: 99, fraction: 0.5 });
    expect(await peer.fence()).toEqual([]);
  });
});

describe('docs/protocol.md: retries and failure codes', () => {
  const fail = (lease: number) => ({
    type: 'results',
    leases: [],
    outputs: [],
    failures: [{ lease, error: 'no', kind: 'error' }],
  });

  it('"A task that threw is retried, preferably on another worker: while another worker is connected the task waits for one of them"', async () => {
    const { url } = await startWireMaster();
    await submit(url, [1]);
    const a = await worker(url);
    const b = await worker(url);
    a.send({ type: 'ready', credit: 1 });
    const [task] = await takeTasks(a, 1);
    a.send({ ...fail(task!.lease), credit: 1 });
    await a.expect('ack');
    expect(await a.fence()).toEqual([]); // a has credit, yet the task waits for b
    b.send({ type: 'ready', credit: 1 });
    expect((await takeTasks(b, 1))[0]).toMatchObject({ index: 0, attempt: 2 });
  });

  it('"a worker that is the only one connected gets its own failed task back"', async () => {
    const { url } = await startWireMaster();
    await submit(url, [1]);
    const alone = await worker(url);
    alone.send({ type: 'ready', credit: 1 });
    const [task] = await takeTasks(alone, 1);
    alone.send({ ...fail(task!.lease), credit: 1 });
    expect((await takeTasks(alone, 1))[0]).toMatchObject({
      index: 0,
      attempt: 2,
    });
  });

  it('"a failed task\'s line carries a machine-readable code": after maxAttempts errors, E_TASK_FAILED with the message', async () => {
    const { url } = await startWireMaster();
    const job = await submit(url, [1, 2], { maxAttempts: 2 });
    const peer = await worker(url);
    peer.send({ type: 'ready', credit: 2 });
    const [first, other] = await takeTasks(peer, 2);
    peer.send({ type: 'results', leases: [other!.lease], outputs: [4] });
    await peer.expect('ack');
    peer.send({ ...fail(first!.lease), credit: 1 });
    const [retry] = await takeTasks(peer, 1);
    peer.send(fail(retry!.lease));
    await peer.expect('ack');
    const lines = (await resultLines(url, job)).sort();
    expect(lines).toEqual([
      '{"index":0,"ok":false,"error":"no","code":"E_TASK_FAILED"}',
      '{"index":1,"ok":true,"output":4}',
    ]);
  });
});
