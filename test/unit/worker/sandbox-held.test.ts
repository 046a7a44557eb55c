/**
 * What the worker holds in its sandboxed child, batch by batch, and the check of what
 * the child reports: only ids handed over and still held count, each once, mapped back
 * to the master's leases; anything a hostile child makes up is dropped.
 */
import { describe, expect, test } from 'vitest';
import { acceptDone } from '../../../server/worker/sandbox/accept-done.js';
import { HeldBatches } from '../../../server/worker/sandbox/held.js';
import { JsonText } from '../../../shared/json-text.js';
import { LIMITS, type Lease } from '../../../shared/protocol.js';
import type { Outcomes } from '../../../shared/worker-session.js';
import { lease } from '../../helpers/ids.js';

const leases = (...values: number[]): Lease[] => values.map(lease);

/** An owner that records what it is told. */
function owner() {
  const told: Outcomes[] = [];
  return { told, onDone: (outcomes: Outcomes) => told.push(outcomes) };
}

describe('HeldBatches', () => {
  test('tasks get consecutive ids across batches; each id maps back to its lease once', () => {
    const held = new HeldBatches();
    const a = held.add(leases(900, 7, 55), () => undefined);
    const b = held.add(leases(12, 13), () => undefined);
    expect([a.first, a.end, b.first, b.end]).toEqual([1, 4, 4, 6]);
    expect(held.size).toBe(5);
    expect(held.leaseOf(2)).toBe(7);
    expect(held.leaseOf(5)).toBe(13);
    expect(held.release(b, 5)).toBe(13);
    expect(held.release(b, 5)).toBeUndefined();
    expect(held.leaseOf(5)).toBeUndefined();
    for (const id of [0, 6, -1, 1.5, Number.NaN, Infinity, 2 ** 60])
      expect(held.find(id) === null || held.leaseOf(id) === undefined).toBe(
        true,
      );
    expect(held.release(a, 1.5)).toBeUndefined();
    expect(held.size).toBe(4);
  });

  test('a batch whose tasks all ended is forgotten; ids are never given twice', () => {
    const held = new HeldBatches();
    const a = held.add(leases(1), () => undefined);
    expect(held.release(a, a.first)).toBe(1);
    expect(held.find(a.first)).toBeNull();
    const b = held.add(leases(1), () => undefined);
    expect(b.first).toBe(a.end);
    expect(held.find(a.first)).toBeNull();
    expect(held.size).toBe(1);
  });

  test('cancel releases the leases held and gives their ids; crashAll tells each owner', () => {
    const held = new HeldBatches();
    const one = owner();
    const two = owner();
    held.add(leases(10, 11, 12), one.onDone);
    held.add(leases(20, 21), two.onDone);
    expect(held.cancel(leases(11, 20, 99))).toEqual([2, 4]);
    expect(held.cancel(leases(11))).toEqual([]);
    expect(held.size).toBe(3);
    held.crashAll('gone');
    expect(held.size).toBe(0);
    expect(one.told).toEqual([
      {
        leases: [],
        outputs: [],
        failures: [
          { lease: 10, error: 'gone', kind: 'crash' },
          { lease: 12, error: 'gone', kind: 'crash' },
        ],
      },
    ]);
    expect(two.told[0]?.failures.map((f) => f.lease)).toEqual([21]);
    held.crashAll('again');
    expect(one.told).toHaveLength(1);
  });
});

describe('acceptDone (what a hostile child may send)', () => {
  test('made-up, repeated and released ids are dropped; held ones come back as leases', () => {
    const held = new HeldBatches();
    const one = owner();
    const two = owner();
    held.add(leases(100, 101, 102), one.onDone); // ids 1..3
    held.add(leases(200, 201), two.onDone); // ids 4..5
    held.cancel(leases(101)); // id 2
    const ids = [1, 1, 2, 0, -1, 1.5, Number.NaN, 6, 2 ** 53, 5, 4];
    const byOwner = acceptDone(held, {
      t: 'done',
      leases: new Float64Array(ids),
      outputs: new Float64Array(ids.map((_, i) => i)),
      busyMs: new Float64Array(
        ids.map((_, i) => (i === 9 ? LIMITS.maxBusyMs + 1 : i === 10 ? -1 : 2)),
      ),
      failures: [],
    });
    expect(byOwner.get(one.onDone)).toEqual({
      leases: [100],
      outputs: [0],
      failures: [],
      busyMs: [2],
    });
    // Implausible busy times read as 0.
    expect(byOwner.get(two.onDone)).toEqual({
      leases: [201, 200],
      outputs: [9, 10],
      failures: [],
      busyMs: [0, 0],
    });
    expect(held.size).toBe(1);
    expect(held.leaseOf(3)).toBe(102);
  });

  test('failures and skipped ids count once, held only; errors are bounded', () => {
    const held = new HeldBatches();
    const one = owner();
    held.add(leases(100, 101, 102), one.onDone);
    const byOwner = acceptDone(held, {
      t: 'done',
      leases: [1],
      outputs: [5],
      failures: [
        { lease: 1, error: 'late', kind: 'error' },
        {
          lease: 2,
          error: 'x'.repeat(LIMITS.maxErrorLength + 10),
          kind: 'odd',
        },
        { lease: 2, error: 'twice', kind: 'crash' },
        { lease: 9, error: 'never held', kind: 'crash' },
        null,
        'nonsense',
      ],
      skipped: [3, 3, 1, 'x'],
    });
    const outcomes = byOwner.get(one.onDone);
    expect(outcomes?.leases).toEqual([100]);
    expect(outcomes?.failures).toEqual([
      {
        lease: 101,
        error: 'x'.repeat(LIMITS.maxErrorLength),
        kind: 'error',
      },
    ]);
    expect(outcomes?.skipped).toEqual([102]);
    expect(held.size).toBe(0);
  });

  test('output texts are scanned: JSON passes as text, anything else fails its task', () => {
    const held = new HeldBatches();
    const one = owner();
    held.add(leases(1, 2, 3, 4), one.onDone);
    const outputs = ['{"a":1}', '{"a":', '[1, 2]', 7];
    for (const [texts, first] of [
      ['all', 1],
      [[0, 1, 99, -1, 0.5], 5],
    ] as const) {
      if (first === 5) held.add(leases(5, 6, 7, 8), one.onDone);
      const byOwner = acceptDone(held, {
        t: 'done',
        leases: [first, first + 1, first + 2, first + 3],
        outputs,
        busyMs: [1, 1, 1, 1],
        failures: [],
        texts,
      });
      const got = byOwner.get(one.onDone) as Outcomes;
      const error = 'the sandbox sent an output that is not JSON text';
      if (texts === 'all') {
        // Spaced JSON and a number are not the compact text the thread writes.
        expect(got.leases).toEqual([1]);
        expect(got.outputs).toEqual([new JsonText('{"a":1}')]);
        expect(got.failures.map((f) => [f.lease, f.error])).toEqual([
          [2, error],
          [3, error],
          [4, error],
        ]);
      } else {
        expect(got.leases).toEqual([5, 7, 8]);
        expect(got.outputs).toEqual([new JsonText('{"a":1}'), '[1, 2]', 7]);
        expect(got.failures.map((f) => f.lease)).toEqual([6]);
      }
    }
  });

  test('a message of the wrong shape reports nothing and releases nothing', () => {
    const held = new HeldBatches();
    held.add(leases(1), () => undefined);
    for (const message of [
      { leases: 1, outputs: [1], failures: [] },
      { leases: [1], outputs: 'x', failures: [] },
      { leases: [1], outputs: [1], failures: {} },
      { leases: new Uint8Array([1]), outputs: [1], failures: [] },
    ])
      expect(acceptDone(held, message).size).toBe(0);
    expect(held.size).toBe(1);
  });
});
