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

const HASH = 'a'.repeat(64);

// x + 1, with misbehaviour on demand: `exit` ends the thread, `spin` busy-waits that
// many ms, `forge` posts a fake outcome on the thread's port.
const MODULE = `
import { parentPort } from 'node:worker_threads';
export default function (input) {
  if (input.exit) process.exit(3);
  if (input.forge) parentPort.postMessage({ type: 'outcomes', leases: [input.forge], status: [0], values: ['forged'] });
  const until = Date.now() + (input.spin ?? 0);
  while (Date.now() < until) {}
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
}

/** One job's batch: task i has lease 1000 + first + i and input inputs[i]. */
function batch(first: number, inputs: Input[]): TaskBatch {
  return {
    job: 'j',
    module: HASH,
    timeoutMs: 60_000,
    name: 'test',
    leases: inputs.map((_, i) => 1_000 + first + i),
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
    pool.cancel(cancelled);
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
});
