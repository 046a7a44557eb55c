import { describe, expect, test } from 'vitest';
import {
  FrameReader,
  MAX_FRAME_BYTES,
  encodeFrame,
} from '../../../server/worker/sandbox/frames.js';

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
  test('messages survive any split into chunks, bytes as bytes', () => {
    const sent = [
      {
        t: 'submit',
        batch: { leases: [1, 2], inputs: [new Uint8Array([7, 8]), 'x'] },
      },
      { t: 'cancel-all' },
      { t: 'done', leases: [], outputs: [], failures: [] },
    ];
    const bytes = Buffer.concat(sent.map(encodeFrame));
    for (const size of [1, 3, 7, bytes.length]) {
      const { r, messages, errors } = reader();
      for (let at = 0; at < bytes.length; at += size)
        r.push(bytes.subarray(at, at + size));
      expect(errors).toEqual([]);
      expect(messages).toEqual(sent);
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
    bad.r.push(Buffer.from([3, 0, 0, 0, 0xff, 0xff, 0xff]));
    expect(bad.errors).toHaveLength(1);
    expect(bad.errors[0]).toMatch(/^a malformed frame/);
    expect(bad.messages).toEqual([]);
  });
});
