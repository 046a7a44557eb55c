/**
 * The child's merging of one turn's outcomes: successes of several batches become one
 * column frame with text places renumbered, failures and skipped leases one more
 * message, and the result decodes on the parent's side to the same outcomes.
 */
import { describe, expect, test } from 'vitest';
import { readDone } from '../../../server/worker/sandbox/columns.js';
import { DoneMerger } from '../../../server/worker/sandbox/done-merge.js';
import { FRAME_DONE } from '../../../server/worker/sandbox/columns.js';
import { encodeFrame } from '../../../server/worker/sandbox/frames.js';
import { JsonText } from '../../../shared/json-text.js';
import { lease } from '../../helpers/ids.js';

describe('DoneMerger', () => {
  test('successes of several batches leave as one column frame', () => {
    const merger = new DoneMerger();
    expect(merger.empty).toBe(true);
    merger.add({
      leases: [lease(1), lease(2)],
      outputs: [10, 20],
      failures: [],
      busyMs: [0.5, 0.25],
    });
    merger.add({ leases: [lease(3)], outputs: [30], failures: [] });
    expect(merger.empty).toBe(false);
    const messages = merger.take();
    expect(merger.empty).toBe(true);
    expect(merger.take()).toEqual([]);
    expect(messages).toHaveLength(1);
    const frame = encodeFrame(messages[0]!);
    expect(frame[4]).toBe(FRAME_DONE);
    const done = readDone(frame.subarray(4));
    expect([...done.leases]).toEqual([1, 2, 3]);
    expect([...(done.outputs as Float64Array)]).toEqual([10, 20, 30]);
    // A batch without measured times reads as 0, as the parent counts it anyway.
    expect([...done.busyMs]).toEqual([0.5, 0.25, 0]);
    expect(done.texts).toBeUndefined();
  });

  test('output texts keep their places across merged batches', () => {
    const merger = new DoneMerger();
    merger.add({
      leases: [lease(1), lease(2)],
      outputs: [7, new JsonText('{"a":1}')],
      failures: [],
      busyMs: [1, 1],
    });
    merger.add({
      leases: [lease(3), lease(4)],
      outputs: [new JsonText('[2]'), 'plain'],
      failures: [],
      busyMs: [1, 1],
    });
    const [message] = merger.take();
    const done = readDone(encodeFrame(message!).subarray(4));
    expect(done.outputs).toEqual([7, '{"a":1}', '[2]', 'plain']);
    expect(done.texts).toEqual([1, 2]);
  });

  test('failures and skipped leases leave in a second message', () => {
    const merger = new DoneMerger();
    merger.add({
      leases: [lease(1)],
      outputs: [1],
      failures: [{ lease: lease(2), error: 'boom', kind: 'error' }],
      busyMs: [1],
    });
    merger.add({
      leases: [],
      outputs: [],
      failures: [{ lease: lease(3), error: 'gone', kind: 'crash' }],
      skipped: [lease(4)],
    });
    const messages = merger.take();
    expect(messages).toEqual([
      {
        t: 'done',
        leases: new Float64Array([1]),
        outputs: new Float64Array([1]),
        texts: undefined,
        failures: [],
        skipped: undefined,
        busyMs: new Float64Array([1]),
      },
      {
        t: 'done',
        leases: [],
        outputs: [],
        failures: [
          { lease: 2, error: 'boom', kind: 'error' },
          { lease: 3, error: 'gone', kind: 'crash' },
        ],
        skipped: [4],
        busyMs: undefined,
      },
    ]);
  });

  test('large merged successes say they must leave now', () => {
    const merger = new DoneMerger();
    merger.add({
      leases: [lease(1)],
      outputs: [new JsonText(`"${'x'.repeat(4 * 1024 * 1024)}"`)],
      failures: [],
      busyMs: [1],
    });
    expect(merger.full).toBe(false);
    merger.add({
      leases: [lease(2)],
      outputs: ['y'.repeat(4 * 1024 * 1024)],
      failures: [],
      busyMs: [1],
    });
    expect(merger.full).toBe(true);
    merger.take();
    expect(merger.full).toBe(false);
    const many = Array.from({ length: 10_000 }, (_, i) => lease(i));
    merger.add({
      leases: many,
      outputs: many.map(() => 0),
      failures: [],
    });
    expect(merger.full).toBe(true);
  });
});
