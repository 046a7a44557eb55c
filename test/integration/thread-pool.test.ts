/**
 * The Node worker's executor with real worker threads (dist/task-thread.js): task
 * batches go to threads as column slices and come back as outcomes in order; a thread
 * that dies is blamed for exactly its running task, the rest of its slices run again;
 * cancelled leases never report; outcomes forged by task code are ignored.
 */
import { afterEach, describe, expect, test, vi } from 'vitest';
import type { TaskBatch } from '../../shared/protocol.js';
import type { Outcomes } from '../../shared/worker-session.js';
import { ThreadPool } from '../../server/worker/thread-pool.js';
import { jobId, lease } from '../helpers/ids.js';

const HASH = 'a'.repeat(64);

// x + 1, with misbehaviour on demand: `exit` ends the thread, `spin` busy-waits that
// many ms (calling ctx.progress all along if `progress`), `forge` posts a fake outcome
// on the thread's port, `forgeProgress` fake progress of that lease.
const MODULE = `
import { parentPort } from 'node:worker_threads';
export default function (input, ctx) {
  if (input.exit) process.exit(3);
  if (input.forge) parentPort.postMessage({ type: 'outcomes', leases: [input.forge], status: [0], values: ['forged'] });
  if (input.forgeProgress) parentPort.postMessage({ type: 'progress', lease: input.forgeProgress, fraction: 0.5 });
  const spin = input.spin ?? 0;
  const start = Date.now();
  const until = start + spin;
  for (let now = start; now < until; now = Date.now()) {
    if (input.progress) ctx.progress((now - start) / spin);
  }
  return input.x + 1;
}`;

let pool: ThreadPool | null = null;
afterEach(async () => {
  await pool?.close();
  pool = null;
});

function startPool(threads: number): ThreadPool {
  pool = new ThreadPool({ threads, loadModule: async () => MODULE });
  return pool;
}

interface Input {
  x: number;
  exit?: boolean;
  spin?: number;
  forge?: number;
  forgeProgress?: number;
  progress?: boolean;
}

/** One job's batch: task i has lease 1000 + first + i and input inputs[i]. */
function batch(first: number, inputs: Input[]): TaskBatch {
  return {
    job: jobId('j'),
    module: HASH,
    timeoutMs: 60_000,
    name: 'test',
    leases: inputs.map((_, i) => lease(1_000 + first + i)),
    indexes: inputs.map((_, i) => first + i),
    attempts: inputs.map(() => 1),
    inputs,
  };
}

/** Collects every reported lease; `until(n)` resolves once n leases have reported. */
function collector() {
  const outputs = new Map<number, unknown[]>();
  const failures = new Map<number, { error: string; kind: string }[]>();
  let reported = 0;
  let wake: (() => void) | null = null;
  let wanted = Infinity;
  const onDone = (done: Outcomes) => {
    done.leases.forEach((lease, i) => {
      outputs.set(lease, [...(outputs.get(lease) ?? []), done.outputs[i]]);
    });
    for (const f of done.failures)
      failures.set(f.lease, [...(failures.get(f.lease) ?? []), f]);
    reported += done.leases.length + done.failures.length;
    if (reported >= wanted) wake?.();
  };
  const until = (n: number) =>
    new Promise<void>((resolve) => {
      wanted = n;
      wake = resolve;
      if (reported >= n) resolve();
    });
  return { onDone, until, outputs, failures, reported: () => reported };
}

describe('thread pool (real worker threads)', () => {
  test('batches of any size over 2 threads: every task reported once, in its own slot', async () => {
    const pool = startPool(2);
    const c = collector();
    let first = 0;
    for (const size of [1, 7, 300, 1, 2_000, 45]) {
      const inputs = Array.from({ length: size }, (_, i) => ({ x: first + i }));
      pool.submit(batch(first, inputs), c.onDone);
      first += size;
    }
    await c.until(first);
    expect(c.failures.size).toBe(0);
    expect(c.outputs.size).toBe(first);
    for (let t = 0; t < first; t++)
      expect(c.outputs.get(1_000 + t)).toEqual([t + 1]);
    expect(pool.pending).toBe(0);
  });

  test('a task that ends its thread is the only one failed, as a crash; the rest of its batch runs once', async () => {
    const pool = startPool(2);
    const c = collector();
    const inputs: Input[] = Array.from({ length: 1_000 }, (_, x) => ({
      x,
      ...(x === 500 ? { exit: true } : {}),
    }));
    pool.submit(batch(0, inputs), c.onDone);
    await c.until(1_000);
    expect(c.failures.get(1_500)).toEqual([
      expect.objectContaining({
        kind: 'crash',
        error: expect.stringContaining('exit code 3'),
      }),
    ]);
    expect(c.failures.size).toBe(1);
    expect(c.outputs.size).toBe(999);
    for (let x = 0; x < 1_000; x++) {
      if (x !== 500) expect(c.outputs.get(1_000 + x)).toEqual([x + 1]);
    }
    expect(pool.pending).toBe(0);
  });

  test('cancelled leases, queued or in a thread, never report after the cancel; the others report once', async () => {
    const pool = startPool(1);
    const c = collector();
    const inputs = Array.from({ length: 200 }, (_, x) => ({ x, spin: 1 }));
    pool.submit(batch(0, inputs), c.onDone);
    await c.until(1); // the thread is on its first tasks; most wait in the queue
    // The next tasks (likely in the thread) and a stretch still queued.
    const cancelled = [1_001, 1_002, 1_003];
    for (let x = 50; x < 150; x++) cancelled.push(1_000 + x);
    const reportedBefore = new Set(c.outputs.keys());
    pool.cancel(cancelled.map(lease));
    await vi.waitFor(() => expect(pool.pending).toBe(0), { timeout: 10_000 });
    const isCancelled = new Set(cancelled);
    for (let x = 0; x < 200; x++) {
      const lease = 1_000 + x;
      if (!isCancelled.has(lease))
        expect(c.outputs.get(lease)).toEqual([x + 1]);
      else if (!reportedBefore.has(lease))
        expect(c.outputs.has(lease)).toBe(false);
    }
    expect(c.failures.size).toBe(0);
  });

  test('outcomes forged by task code on the thread port are ignored', async () => {
    const pool = startPool(1);
    const c = collector();
    const inputs: Input[] = Array.from({ length: 100 }, (_, x) => ({
      x,
      // Pretend task 60 (not run yet) finished with 'forged'.
      ...(x === 10 ? { forge: 1_060 } : {}),
    }));
    pool.submit(batch(0, inputs), c.onDone);
    await c.until(100);
    for (let x = 0; x < 100; x++)
      expect(c.outputs.get(1_000 + x)).toEqual([x + 1]);
    expect(c.failures.size).toBe(0);
  });

  test('ctx.progress of running tasks reaches onProgress, throttled, before their outcome; forged progress is ignored', async () => {
    const pool = startPool(1);
    const events: string[] = [];
    const heard = new Map<number, number[]>();
    pool.onProgress = (lease, fraction) => {
      heard.set(lease, [...(heard.get(lease) ?? []), fraction]);
      events.push(`progress ${lease}`);
    };
    const c = collector();
    const onDone = (done: Outcomes) => {
      for (const lease of done.leases) events.push(`done ${lease}`);
      c.onDone(done);
    };
    pool.submit(
      batch(0, [
        { x: 0, spin: 1_000, progress: true },
        // Task code posting progress of a lease this pool does not hold.
        { x: 1, forgeProgress: 9_999 },
        { x: 2, spin: 1_000, progress: true },
        { x: 3 },
      ]),
      onDone,
    );
    await c.until(4);
    for (const lease of [1_000, 1_002]) {
      const fractions = heard.get(lease) ?? [];
      // ~1 s of reports, at most one per 250 ms: 4 or 5 of them, rising.
      expect(fractions.length).toBeGreaterThanOrEqual(3);
      expect(fractions.length).toBeLessThanOrEqual(5);
      expect([...fractions].sort((a, b) => a - b)).toEqual(fractions);
      for (const f of fractions) expect(f >= 0 && f < 1).toBe(true);
      // Never after the task's outcome.
      expect(events.lastIndexOf(`progress ${lease}`)).toBeLessThan(
        events.indexOf(`done ${lease}`),
      );
    }
    expect(heard.has(1_001)).toBe(false);
    expect(heard.has(1_003)).toBe(false);
    expect(heard.has(9_999)).toBe(false);
    expect(c.outputs.size).toBe(4);
  });

  test('no progress of a task after its cancel', async () => {
    const pool = startPool(1);
    const heard: number[] = [];
    pool.onProgress = (lease) => heard.push(lease);
    const c = collector();
    pool.submit(
      batch(0, [
        { x: 0, spin: 1_500, progress: true },
        { x: 1, spin: 600, progress: true },
      ]),
      c.onDone,
    );
    await vi.waitFor(() => expect(heard).toContain(1_000), { timeout: 5_000 });
    pool.cancel([lease(1_000)]);
    const before = heard.filter((lease) => lease === 1_000).length;
    await c.until(1);
    await vi.waitFor(() => expect(pool.pending).toBe(0), { timeout: 5_000 });
    // The cancelled task kept spinning (and reporting) in its thread: none of it passed.
    expect(heard.filter((lease) => lease === 1_000)).toHaveLength(before);
    expect(heard).toContain(1_001);
    expect(c.outputs.has(1_000)).toBe(false);
  });
});
