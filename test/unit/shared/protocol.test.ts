import fc from 'fast-check';
import { describe, expect, expectTypeOf, test } from 'vitest';
import { decodeFrame, encodeFrame } from '../../../shared/codec.js';
import {
  MasterMessage,
  WorkerMessage,
  decodeMasterMessage,
  decodeWorkerMessage,
} from '../../../shared/protocol.js';

describe('protocol', () => {
  test('the worker message types are exactly these', () => {
    expectTypeOf<WorkerMessage['type']>().toEqualTypeOf<
      'hello' | 'ready' | 'results' | 'progress' | 'watch'
    >();
  });

  test('decodes a valid hello and refuses unknown keys', () => {
    const ok = decodeWorkerMessage(
      '{"type":"hello","protocol":1,"kind":"browser","slots":4}',
    );
    expect(ok).toEqual({
      ok: true,
      value: { type: 'hello', protocol: 1, kind: 'browser', slots: 4 },
    });
    const extra = decodeWorkerMessage(
      '{"type":"hello","protocol":1,"kind":"node","slots":1,"admin":true}',
    );
    expect(extra.ok).toBe(false);
  });

  test('decode never throws, whatever it is given', () => {
    fc.assert(
      fc.property(
        fc.oneof(fc.string(), fc.uint8Array(), fc.json()),
        (input) => {
          const result = decodeWorkerMessage(input);
          expect(typeof result.ok).toBe('boolean');
        },
      ),
      { numRuns: 500 },
    );
    expect(
      decodeWorkerMessage(`${'['.repeat(200_000)}${']'.repeat(200_000)}`).ok,
    ).toBe(false);
    expect(decodeWorkerMessage(new Uint8Array([1, 2])).ok).toBe(false);
  });

  test('error messages are bounded', () => {
    const result = decodeWorkerMessage(
      JSON.stringify({ type: 'results', results: Array(20_000).fill({}) }),
    );
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.error.length).toBeLessThanOrEqual(500);
  });
});

describe('codec', () => {
  test('a message without bytes is one JSON text frame', () => {
    expect(encodeFrame({ type: 'ready', credit: 3 })).toBe(
      '{"type":"ready","credit":3}',
    );
  });

  test('bytes travel as bytes: a 1 MB Uint8Array costs about 1 MB', () => {
    const blob = new Uint8Array(1_000_000).map((_, i) => i % 251);
    const frame = encodeFrame({
      type: 'results',
      results: [{ lease: 1, ok: true, output: { pixels: blob } }],
    });
    expect(frame instanceof Uint8Array).toBe(true);
    expect((frame as Uint8Array).byteLength).toBeLessThan(1_000_200);
    const decoded = decodeWorkerMessage(frame);
    expect(decoded.ok).toBe(true);
    if (decoded.ok && decoded.value.type === 'results') {
      const result = decoded.value.results[0];
      const pixels = result?.ok
        ? (result.output as { pixels: Uint8Array }).pixels
        : null;
      expect(pixels instanceof Uint8Array).toBe(true);
      // Compared as buffers: a deep equal of a million elements is needlessly slow.
      expect(Buffer.compare(pixels as Uint8Array, blob)).toBe(0);
    }
  });

  test('round-trips any JSON value with bytes mixed in', () => {
    fc.assert(
      fc.property(fc.jsonValue(), fc.uint8Array(), (json, bytes) => {
        const value = { json, bytes, list: [bytes, { nested: bytes }] };
        const decoded = decodeFrame(encodeFrame(value));
        expect(decoded.ok).toBe(true);
        if (decoded.ok)
          expect(decoded.value).toEqual(
            JSON.parse(
              JSON.stringify({ ...value, bytes: 0, list: 0 }),
              (k, v: unknown) =>
                k === 'bytes'
                  ? bytes
                  : k === 'list'
                    ? [bytes, { nested: bytes }]
                    : v,
            ),
          );
      }),
      { numRuns: 200 },
    );
  });

  test('master messages built by the master parse', () => {
    const tasks = {
      type: 'tasks',
      jobs: { '1': { module: 'a'.repeat(64), timeoutMs: 1000, name: 'x' } },
      tasks: [
        {
          job: '1',
          index: 0,
          lease: 5,
          attempt: 1,
          input: new Uint8Array([1, 2, 3]),
        },
      ],
    };
    const decoded = decodeMasterMessage(encodeFrame(tasks));
    expect(decoded.ok && MasterMessage.parse(decoded.value)).toEqual(tasks);
    // A task naming a job the frame does not describe is refused.
    const orphan = { ...tasks, tasks: [{ ...tasks.tasks[0], job: '2' }] };
    expect(decodeMasterMessage(encodeFrame(orphan)).ok).toBe(false);
  });
});

describe('hot-path decoders agree with the zod schemas', () => {
  const lease = fc.oneof(
    fc.nat(),
    fc.integer(),
    fc.double(),
    fc.constant(Number.MAX_SAFE_INTEGER + 2),
    fc.string(),
  );
  const result = fc.oneof(
    fc.record({ lease, ok: fc.constant(true), output: fc.jsonValue() }),
    fc.record({ lease, ok: fc.constant(true) }),
    fc.record({
      lease,
      ok: fc.constant(false),
      error: fc.oneof(fc.string(), fc.constant('x'.repeat(5_000)), fc.nat()),
      kind: fc.oneof(fc.constant('error'), fc.constant('crash'), fc.string()),
    }),
    fc.record({ lease, ok: fc.boolean(), extra: fc.nat() }),
    fc.jsonValue(),
  );
  const task = fc.record(
    {
      job: fc.oneof(
        fc.string(),
        fc.constant(''),
        fc.constant('j'.repeat(70)),
        fc.constant('1'),
      ),
      index: lease,
      lease,
      attempt: fc.oneof(fc.integer(), fc.constant(1)),
      input: fc.jsonValue(),
      extra: fc.nat(),
    },
    { requiredKeys: ['job', 'index', 'lease', 'attempt'] },
  );
  const jobWire = fc.record(
    {
      module: fc.oneof(
        fc.constant('a'.repeat(64)),
        fc.constant('A'.repeat(64)),
        fc.string(),
      ),
      timeoutMs: fc.oneof(fc.integer(), fc.constant(1000)),
      name: fc.oneof(fc.string(), fc.nat()),
      extra: fc.nat(),
    },
    { requiredKeys: ['module', 'timeoutMs'] },
  );

  test('results', () => {
    fc.assert(
      fc.property(fc.array(result, { maxLength: 4 }), (results) => {
        const text = JSON.stringify({ type: 'results', results });
        const fast = decodeWorkerMessage(text);
        expect(fast.ok).toBe(WorkerMessage.safeParse(JSON.parse(text)).success);
      }),
      { numRuns: 2_000 },
    );
  });

  test('tasks', () => {
    fc.assert(
      fc.property(
        fc.array(task, { maxLength: 3 }),
        fc.dictionary(fc.oneof(fc.constant('1'), fc.string()), jobWire, {
          maxKeys: 3,
        }),
        (tasks, jobs) => {
          const text = JSON.stringify({ type: 'tasks', jobs, tasks });
          const fast = decodeMasterMessage(text);
          const parsed = MasterMessage.safeParse(JSON.parse(text));
          const valid =
            parsed.success &&
            parsed.data.type === 'tasks' &&
            parsed.data.tasks.every((t) =>
              Object.hasOwn(
                parsed.data.type === 'tasks' ? parsed.data.jobs : {},
                t.job,
              ),
            );
          expect(fast.ok).toBe(valid);
        },
      ),
      { numRuns: 2_000 },
    );
  });
});
