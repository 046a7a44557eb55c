/**
 * How the worker spreads batches over its sandboxed child's task threads, and what a
 * thread's death report (from the untrusted child) may do: only ids held for that
 * thread and read by it count; its running task is blamed, the others it read run
 * again under their leases, and what it never read stays held.
 */
import { describe, expect, test } from 'vitest';
import { HeldBatches } from '../../../server/worker/sandbox/held.js';
import {
  sampleDone,
  splitBatch,
  threadDied,
} from '../../../server/worker/sandbox/routing.js';
import { BatchSizer } from '../../../shared/executor/batch-size.js';
import type { TaskBatch } from '../../../shared/protocol.js';
import { jobId, lease } from '../../helpers/ids.js';

const batch = (n: number, from = 100): TaskBatch => ({
  job: jobId('j1'),
  module: 'd'.repeat(64) as TaskBatch['module'],
  name: 'n',
  timeoutMs: 60_000,
  leases: Array.from({ length: n }, (_, i) => lease(from + i)),
  indexes: Array.from({ length: n }, (_, i) => i),
  attempts: Array.from({ length: n }, () => 1),
  inputs: Array.from({ length: n }, (_, i) => i * 10),
});

describe('sandbox routing', () => {
  test('one thread gets a batch whole; several share it, finer once tasks are slow', () => {
    const sizer = new BatchSizer(1_024, 2);
    const b = batch(10);
    expect(splitBatch(b, 1, sizer)).toEqual([b]);
    expect(splitBatch(b, 4, sizer).map((p) => p.leases.length)).toEqual([
      3, 3, 3, 1,
    ]);
    sizer.sample(b.module, 100, 10); // 10 ms a task: one at a time
    const parts = splitBatch(b, 4, sizer);
    expect(parts.map((p) => p.leases)).toEqual(b.leases.map((l) => [l]));
    expect(parts.map((p) => p.inputs)).toEqual(b.inputs.map((x) => [x]));
  });

  test('parts of a batch of input texts carry their slice of its span', () => {
    const texts = Array.from(
      { length: 10 },
      (_, i) => `{"x":${'9'.repeat(i)}0}`,
    );
    const b: TaskBatch = {
      ...batch(10),
      inputs: texts,
      inputsJson: true,
      inputsSpan: texts.join(','),
    };
    const parts = splitBatch(b, 4, new BatchSizer(1_024, 2));
    expect(parts.length).toBe(4);
    for (const part of parts)
      expect(part.inputsSpan).toBe((part.inputs as string[]).join(','));
  });

  test('busy times of a done report size later batches, implausible ones ignored', () => {
    const sizer = new BatchSizer(1_024, 2);
    const held = new HeldBatches();
    const b = batch(4);
    const h = held.add(b.leases, () => undefined, 0, b);
    const ids = new Float64Array([h.first, h.first + 1]);
    sampleDone(sizer, held, {
      leases: ids,
      busyMs: new Float64Array([1, 1e15]),
    });
    // 1 ms over 2 tasks: 4 a batch of 2 ms.
    expect(sizer.size(b.module)).toBe(4);
    sampleDone(sizer, held, { leases: [999], busyMs: [5] });
    expect(sizer.size(b.module)).toBe(4);
  });

  test('a death blames the running task, runs again what was read, keeps what was not', () => {
    const held = new HeldBatches();
    const told: unknown[] = [];
    const onDone = (o: unknown) => told.push(o);
    const a = batch(4, 100);
    const b = batch(3, 200);
    const ha = held.add(a.leases, onDone, 0, a);
    const hb = held.add(b.leases, onDone, 0, b);
    const other = held.add(batch(2, 300).leases, onDone, 1, batch(2, 300));
    // Thread 0 reported ids up to a.first, read all of a, ran a.first + 2.
    const after = threadDied(held, {
      thread: 0,
      culprit: ha.first + 2,
      reported: ha.first,
      read: ha.end - 1,
      reason: 'the task ended its thread (exit code 3)',
    });
    expect([...after.told.values()]).toEqual([
      {
        leases: [],
        outputs: [],
        failures: [
          {
            lease: lease(102),
            error: 'the task ended its thread (exit code 3)',
            kind: 'crash',
          },
        ],
      },
    ]);
    expect(after.again.map((x) => x.batch.leases)).toEqual([
      [lease(101), lease(103)],
    ]);
    expect(after.again[0]?.batch.inputs).toEqual([10, 30]);
    // b (never read), thread 1's batch and the id reported (its done frame releases
    // it) are still held.
    expect(held.size).toBe(1 + b.leases.length + 2);
    expect(held.leaseOf(ha.first)).toBe(lease(100));
    expect(held.leaseOf(hb.first)).toBe(lease(200));
    expect(held.leaseOf(other.first)).toBe(lease(300));
    expect(told).toEqual([]);
  });

  test('a lying death report touches nothing it does not name', () => {
    const held = new HeldBatches();
    const b = batch(3);
    held.add(b.leases, () => undefined, 0, b);
    for (const lie of [
      { thread: 1, culprit: 1, reported: 0, read: 3, reason: 'x' },
      { thread: 0, culprit: 1, reported: 3, read: 1, reason: 'x' },
      { thread: '0', culprit: 1, reported: 0, read: 3, reason: 'x' },
      { thread: 0, culprit: 1, reported: Number.NaN, read: 3, reason: 'x' },
      { thread: 0, culprit: 1, reported: 10, read: 2 ** 60, reason: 'x' },
    ]) {
      const after = threadDied(held, lie);
      expect(after.told.size + after.again.length).toBe(0);
    }
    expect(held.size).toBe(3);
  });
});
