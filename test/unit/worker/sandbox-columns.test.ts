/**
 * The pipe's column frames (batches and successes as doubles): which messages take
 * them, and a child that sends lying lengths, unknown formats or values that do not
 * match gets a malformed frame, never a wrong message.
 */
import { serialize } from 'node:v8';
import { describe, expect, test } from 'vitest';
import {
  FRAME_CLONE,
  FRAME_DONE,
  FRAME_SUBMIT,
  doneFrame,
  readDone,
  submitFrame,
} from '../../../server/worker/sandbox/columns.js';
import {
  FrameReader,
  encodeFrame,
} from '../../../server/worker/sandbox/frames.js';
import type { TaskBatch } from '../../../shared/protocol.js';
import { jobId, lease } from '../../helpers/ids.js';

const batch = (n: number, extra: Partial<TaskBatch> = {}): TaskBatch => ({
  job: jobId('j1'),
  module: 'b'.repeat(64) as TaskBatch['module'],
  name: 'name "quoted" ✓',
  timeoutMs: 60_000,
  leases: Array.from({ length: n }, (_, i) => lease(1_000_000 + i)),
  indexes: Array.from({ length: n }, (_, i) => i),
  attempts: Array.from({ length: n }, () => 2),
  inputs: Array.from({ length: n }, (_, i) => i * 1.5),
  ...extra,
});

/** The batch as the child gets it: ids from `first` in place of the leases. */
const withIds = (sent: TaskBatch, first: number) => ({
  ...sent,
  leases: sent.leases.map((_, i) => first + i),
});

const f64 = (...values: number[]) => new Float64Array(values);

/** Feeds raw frames to a reader; returns what it decoded and reported. */
function read(...frames: Buffer[]) {
  const messages: unknown[] = [];
  const errors: string[] = [];
  const reader = new FrameReader(
    (m) => messages.push(m),
    (e) => errors.push(e),
  );
  for (const frame of frames) reader.push(frame);
  return { messages, errors };
}

/** A `done` columns frame written by hand: kind, format, n, header bytes, payload. */
function handDone(format: number, n: number, payload: Buffer, header = 0) {
  const head = Buffer.alloc(16);
  head.writeUInt32LE(12 + payload.length, 0);
  head[4] = FRAME_DONE;
  head[5] = format;
  head.writeUInt32LE(n, 8);
  head.writeUInt32LE(header, 12);
  return Buffer.concat([head, payload]);
}

const doubles = (...values: number[]) => {
  const out = Buffer.alloc(values.length * 8);
  values.forEach((v, i) => out.writeDoubleLE(v, i * 8));
  return out;
};

describe('column frames', () => {
  test('a batch of numbers or of any values comes back whole, as packed arrays, ids as leases', () => {
    for (const inputs of [
      undefined,
      ['x', { y: [1, null] }, new Uint8Array([9, 8])],
    ]) {
      const sent = batch(3, inputs ? { inputs } : {});
      const frame = submitFrame(sent, 41);
      expect(frame?.[4]).toBe(FRAME_SUBMIT);
      const { messages, errors } = read(frame as Buffer);
      expect(errors).toEqual([]);
      expect(messages).toEqual([{ t: 'submit', batch: withIds(sent, 41) }]);
      const got = (messages[0] as { batch: TaskBatch }).batch;
      for (const column of [got.leases, got.indexes, got.inputs])
        expect(Array.isArray(column)).toBe(true);
    }
  });

  test('only plain successes with busy times take the done columns', () => {
    const ok = {
      leases: [lease(1), lease(2)],
      outputs: [3, 'four'],
      failures: [],
      busyMs: [0.5, 1],
    };
    expect(encodeFrame({ t: 'done', ...ok, skipped: undefined })[4]).toBe(
      FRAME_DONE,
    );
    const failure = { lease: lease(3), error: 'x', kind: 'error' as const };
    expect(doneFrame({ ...ok, failures: [failure] })).toBeNull();
    expect(doneFrame({ ...ok, skipped: [lease(4)] })).toBeNull();
    expect(doneFrame({ ...ok, busyMs: undefined })).toBeNull();
    expect(
      doneFrame({ ...ok, leases: [], outputs: [], busyMs: [] }),
    ).toBeNull();
    expect(
      submitFrame(batch(2, { resumes: [undefined, { at: 1 }] }), 1),
    ).toBeNull();
    // Those take the structured clone, whole.
    const full = {
      t: 'done' as const,
      ...ok,
      failures: [failure],
      skipped: [lease(4)],
    };
    const frame = encodeFrame(full);
    expect(frame[4]).toBe(FRAME_CLONE);
    expect(read(frame).messages).toEqual([full]);
  });

  test('done columns decode to exactly what was sent', () => {
    const frame = doneFrame({
      leases: [lease(7), lease(9)],
      outputs: [-0, 1e300],
      failures: [],
      busyMs: [0.001, 3],
    }) as Buffer;
    expect(readDone(frame.subarray(4))).toEqual({
      t: 'done',
      leases: f64(7, 9),
      outputs: f64(-0, 1e300),
      failures: [],
      busyMs: f64(0.001, 3),
      texts: undefined,
    });
    expect(
      Object.is((readDone(frame.subarray(4)).outputs as Float64Array)[0], -0),
    ).toBe(true);
  });

  test('record batches keep their input texts flag; done frames keep their text places', () => {
    const sent = batch(2, {
      inputs: ['{"id":"a"}', '{"id":"b"}'],
      inputsJson: true,
    });
    const span = '{"id":"a"},{"id":"b"}';
    expect(read(submitFrame(sent, 1) as Buffer).messages).toEqual([
      {
        t: 'submit',
        batch: { ...withIds(sent, 1), inputs: [], inputsSpan: span },
      },
    ]);
    // A kept span of the frame is what goes (a slice of it for a part of the batch);
    // one whose length does not fit the texts (an edited batch) is not used.
    for (const [kept, want] of [
      [span, span],
      ['{"id":"a"},{"id":"c"}', '{"id":"a"},{"id":"c"}'],
      ['{"id":"a"}', span],
    ] as const) {
      const frame = submitFrame({ ...sent, inputsSpan: kept }, 1) as Buffer;
      expect(read(frame).messages).toEqual([
        {
          t: 'submit',
          batch: { ...withIds(sent, 1), inputs: [], inputsSpan: want },
        },
      ]);
    }
    const base = {
      leases: [lease(1), lease(2), lease(3)],
      outputs: ['{"x":1}', '[2]', 'plain'],
      failures: [],
      busyMs: [1, 1, 1],
    };
    for (const [texts, read] of [
      [
        [0, 1],
        [0, 1],
      ],
      [[0, 1, 2], 'all'],
      [undefined, undefined],
    ] as const) {
      const frame = doneFrame({ ...base, texts }) as Buffer;
      expect(frame[4]).toBe(FRAME_DONE);
      expect(readDone(frame.subarray(4)).texts).toEqual(read);
    }
  });

  test('a child cannot send a done frame in the span format of batches', () => {
    for (const format of [4, 5]) {
      const frame = handDone(
        format,
        1,
        Buffer.concat([doubles(1, 1), Buffer.from('7')]),
      );
      const { messages, errors } = read(frame);
      expect(messages).toEqual([]);
      expect(errors).toEqual([expect.stringMatching(/unknown values format/)]);
    }
  });

  test('strings ride as one text with their lengths, any char kept as it was', () => {
    const ascii = ['{"id":"a","text":"lorem"}', '', '"x"'];
    const wide = ['{"t":"é ✓ 😀"}', 'lone \ud800 high', '\udc00', ''];
    for (const [inputs, format] of [
      [ascii, 2],
      [wide, 3],
      [['ÿ only latin1 é'], 2],
    ] as const) {
      const sent = batch(inputs.length, {
        inputs: [...inputs],
        inputsJson: true,
      });
      const submit = submitFrame(sent, 1) as Buffer;
      // Input texts go as one span (UTF-8, or UTF-16 for a lone surrogate).
      expect(submit[5]).toBe(format === 3 ? 5 : 4);
      expect(read(submit).messages).toEqual([
        {
          t: 'submit',
          batch: {
            ...withIds(sent, 1),
            inputs: [],
            inputsSpan: inputs.join(','),
          },
        },
      ]);
      const done = doneFrame({
        leases: inputs.map((_, i) => lease(i + 1)),
        outputs: [...inputs],
        failures: [],
        busyMs: inputs.map(() => 1),
      }) as Buffer;
      expect(done[5]).toBe(format);
      expect(readDone(done.subarray(4)).outputs).toEqual(inputs);
    }
    // Strings mixed with other values take the structured clone.
    const mixed = batch(2, { inputs: ['a', 1] });
    expect((submitFrame(mixed, 1) as Buffer)[5]).toBe(1);
    expect(read(submitFrame(mixed, 1) as Buffer).messages).toEqual([
      { t: 'submit', batch: withIds(mixed, 1) },
    ]);
  });

  test('string lengths that do not add up to the text are malformed frames', () => {
    // One done of 2 strings: leases, busy times, lengths, then the text.
    const strings = (format: number, lengths: number[], text: Buffer) =>
      handDone(
        format,
        2,
        Buffer.concat([doubles(1, 2, 1, 1, ...lengths), text]),
      );
    const cases: Buffer[] = [
      strings(2, [2, 2], Buffer.from('abc', 'latin1')),
      strings(2, [1, 1], Buffer.from('abc', 'latin1')),
      strings(2, [1.5, 1.5], Buffer.from('abc', 'latin1')),
      strings(2, [-1, 4], Buffer.from('abc', 'latin1')),
      strings(2, [NaN, 3], Buffer.from('abc', 'latin1')),
      strings(3, [1, 1], Buffer.from([0x61, 0, 0x62])),
    ];
    for (const frame of cases) {
      const { messages, errors } = read(frame);
      expect(messages).toEqual([]);
      expect(errors).toHaveLength(1);
      expect(errors[0]).toMatch(/^a malformed frame/);
    }
    expect(
      read(strings(3, [1, 1], Buffer.from('ab', 'utf16le'))).messages,
    ).toEqual([
      {
        t: 'done',
        leases: f64(1, 2),
        outputs: ['a', 'b'],
        failures: [],
        busyMs: f64(1, 1),
        texts: undefined,
      },
    ]);
  });

  test('lying lengths, unknown formats and mismatched values are malformed frames', () => {
    const cases: Buffer[] = [
      // n says 1,000 tasks, the frame holds one.
      handDone(0, 1_000, doubles(1, 0, 5)),
      // Doubles with bytes left over.
      handDone(0, 1, Buffer.concat([doubles(1, 0, 5), Buffer.alloc(3)])),
      // A header longer than the frame.
      handDone(0, 1, doubles(1, 0, 5), 1 << 30),
      // An unknown values format.
      handDone(7, 1, doubles(1, 0, 5)),
      // Cloned values that are not an array, or not n of them.
      handDone(1, 1, Buffer.concat([doubles(1, 0), serialize({ a: 1 })])),
      handDone(1, 2, Buffer.concat([doubles(1, 2, 0, 0), serialize([1])])),
      // Cloned values that are not a structured clone at all.
      handDone(1, 1, Buffer.concat([doubles(1, 0), Buffer.from([0xff])])),
      // A body too short for the columns header, and an unknown kind.
      Buffer.from([3, 0, 0, 0, FRAME_DONE, 0, 0]),
      Buffer.from([1, 0, 0, 0, 9]),
    ];
    for (const frame of cases) {
      const { messages, errors } = read(frame, encodeFrame({ t: 'resume' }));
      expect(messages).toEqual([]);
      expect(errors).toHaveLength(1);
      expect(errors[0]).toMatch(/^a malformed frame/);
    }
  });

  test('a child may write any doubles as ids: they stay numbers for the executor to check', () => {
    const frame = handDone(0, 2, doubles(-1, 0.5, 0, 0, 1, 2));
    const { messages, errors } = read(frame);
    expect(errors).toEqual([]);
    expect(messages).toEqual([
      {
        t: 'done',
        leases: f64(-1, 0.5),
        outputs: f64(1, 2),
        failures: [],
        busyMs: f64(0, 0),
      },
    ]);
  });
});
