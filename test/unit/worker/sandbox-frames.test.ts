import { describe, expect, test } from 'vitest';
import {
  FrameReader,
  MAX_FRAME_BYTES,
  encodeFrame,
} from '../../../server/worker/sandbox/frames.js';
import type {
  FromChild,
  ToChild,
} from '../../../server/worker/sandbox/messages.js';
import type { TaskBatch } from '../../../shared/protocol.js';
import { jobId, lease } from '../../helpers/ids.js';

const batch = (leases: number[], inputs: unknown[]): TaskBatch => ({
  job: jobId('j1'),
  module: 'a'.repeat(64) as TaskBatch['module'],
  name: 'job',
  timeoutMs: 1_000,
  leases: leases.map(lease),
  indexes: leases.map((l) => l * 10),
  attempts: leases.map(() => 1),
  inputs,
});

function reader() {
  const messages: unknown[] = [];
  const errors: string[] = [];
  const r = new FrameReader(
    (m) => messages.push(m),
    (e) => errors.push(e),
  );
  return { r, messages, errors };
}

describe('sandbox pipe frames', () => {
  test('messages survive any split into chunks, bytes as bytes, tasks by their ids', () => {
    const mixed = batch([101, 102], [new Uint8Array([7, 8]), 'x']);
    const numbers = batch([103, 104, 105], [1.5, -0, Number.NaN]);
    const sent = [
      { t: 'submit', batch: mixed, first: 1 },
      { t: 'submit', batch: numbers, first: 3 },
      { t: 'cancel-all' },
      { t: 'done', leases: [], outputs: [], failures: [] },
      {
        t: 'done',
        leases: [1, 2],
        outputs: [2, 3],
        failures: [],
        busyMs: [0.001, 2],
      },
      {
        t: 'done',
        leases: [1],
        outputs: [{ a: new Uint8Array([1]) }],
        failures: [],
        busyMs: [0],
      },
    ] as (ToChild | FromChild)[];
    // The child sees ids in place of the master's leases; done columns read as doubles.
    const received = [
      { t: 'submit', batch: { ...mixed, leases: [1, 2] } },
      { t: 'submit', batch: { ...numbers, leases: [3, 4, 5] } },
      sent[2],
      sent[3],
      {
        t: 'done',
        leases: new Float64Array([1, 2]),
        outputs: new Float64Array([2, 3]),
        failures: [],
        busyMs: new Float64Array([0.001, 2]),
        texts: undefined,
      },
      {
        t: 'done',
        leases: new Float64Array([1]),
        outputs: [{ a: new Uint8Array([1]) }],
        failures: [],
        busyMs: new Float64Array([0]),
        texts: undefined,
      },
    ];
    const bytes = Buffer.concat(sent.map(encodeFrame));
    for (const size of [1, 3, 7, bytes.length]) {
      const { r, messages, errors } = reader();
      for (let at = 0; at < bytes.length; at += size)
        r.push(bytes.subarray(at, at + size));
      expect(errors).toEqual([]);
      expect(messages).toEqual(received);
    }
  });

  test('a frame longer than the limit or not a structured clone is reported, then nothing more', () => {
    const { r, messages, errors } = reader();
    const head = Buffer.alloc(4);
    head.writeUInt32LE(MAX_FRAME_BYTES + 1, 0);
    r.push(head);
    r.push(encodeFrame({ t: 'log', message: 'after' }));
    expect(errors).toEqual([
      `a frame of ${MAX_FRAME_BYTES + 1} bytes is too large`,
    ]);
    expect(messages).toEqual([]);

    const bad = reader();
    bad.r.push(Buffer.from([3, 0, 0, 0, 0, 0xff, 0xff]));
    expect(bad.errors).toHaveLength(1);
    expect(bad.errors[0]).toMatch(/^a malformed frame/);
    expect(bad.messages).toEqual([]);
  });
});
