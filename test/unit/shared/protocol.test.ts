import { readFileSync } from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import { afterEach, describe, expect, expectTypeOf, test, vi } from 'vitest';
import { decodeFrame, encodeFrame } from '../../../shared/codec.js';
import {
  LIMITS,
  WorkerBoundMessage,
  DashboardMessage,
  PROTOCOL_VERSION,
  Results,
  Tasks,
  WorkerMessage,
  decodeWorkerBoundMessage,
  decodeDashboardMessage,
  decodeWorkerMessage,
  expandTasks,
} from '../../../shared/protocol.js';
import { buildTasksFrame } from '../../../server/master/task-frames.js';
import { unbranded } from '../../helpers/ids.js';

const MODULE = 'a'.repeat(64);

describe('protocol', () => {
  test('the worker message types are exactly these', () => {
    expectTypeOf<WorkerMessage['type']>().toEqualTypeOf<
      'hello' | 'ready' | 'results' | 'progress' | 'checkpoint' | 'watch'
    >();
  });

  test('decodes a valid hello and refuses unknown keys', () => {
    const ok = decodeWorkerMessage(
      '{"type":"hello","protocol":2,"kind":"browser","slots":4}',
    );
    expect(ok).toEqual({
      ok: true,
      value: { type: 'hello', protocol: 2, kind: 'browser', slots: 4 },
    });
    const extra = decodeWorkerMessage(
      '{"type":"hello","protocol":2,"kind":"node","slots":1,"admin":true}',
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
      JSON.stringify({
        type: 'results',
        leases: Array(20_000).fill({}),
        outputs: [],
      }),
    );
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.error.length).toBeLessThanOrEqual(500);
  });
});

describe('docs/protocol.md', () => {
  const doc = readFileSync(
    path.resolve(import.meta.dirname, '../../../docs/protocol.md'),
    'utf8',
  );
  /** The JSON examples of the page, placeholders filled in. */
  const examples = [...doc.matchAll(/```json\n([\s\S]*?)```/g)].map(
    (m) =>
      JSON.parse((m[1] as string).replaceAll('<64 hex>', MODULE)) as {
        type: string;
      },
  );

  test('every example is a valid message of this protocol version', () => {
    const types = examples.map((e) => e.type);
    for (const type of ['hello', 'welcome', 'ready', 'tasks', 'results', 'ack'])
      expect(types).toContain(type);
    for (const example of examples) {
      const text = JSON.stringify(example);
      const fromWorker = WorkerMessage.options.some(
        (o) => o.shape.type.value === example.type,
      );
      const toDashboard = DashboardMessage.options.some(
        (o) => o.shape.type.value === example.type,
      );
      const decoded = fromWorker
        ? decodeWorkerMessage(text)
        : toDashboard
          ? decodeDashboardMessage(text)
          : decodeWorkerBoundMessage(text);
      expect(decoded, text).toMatchObject({ ok: true });
      if ('protocol' in example)
        expect(example.protocol).toBe(PROTOCOL_VERSION);
    }
  });
});

describe('results and tasks frames, case by case', () => {
  const results = (fields: Record<string, unknown>) =>
    decodeWorkerMessage(JSON.stringify({ type: 'results', ...fields })).ok;

  test('results: columns of equal length, 1..maxBatch results in all', () => {
    expect(results({ leases: [1, 2], outputs: [1, { a: null }] })).toBe(true);
    // Only failures: fine; a success's output may be null.
    expect(
      results({
        leases: [],
        outputs: [],
        failures: [{ lease: 3, error: 'boom', kind: 'crash' }],
      }),
    ).toBe(true);
    expect(results({ leases: [1], outputs: [null], credit: 4 })).toBe(true);
    // Nothing at all, unequal columns, a bad lease, a malformed failure.
    expect(results({ leases: [], outputs: [] })).toBe(false);
    expect(results({ leases: [], outputs: [], failures: [] })).toBe(false);
    expect(results({ leases: [1, 2], outputs: [1] })).toBe(false);
    expect(results({ leases: [1], outputs: [1, 2] })).toBe(false);
    expect(results({ leases: [-1], outputs: [1] })).toBe(false);
    expect(results({ leases: [1.5], outputs: [1] })).toBe(false);
    expect(results({ leases: ['1'], outputs: [1] })).toBe(false);
    expect(
      results({ leases: [Number.MAX_SAFE_INTEGER + 2], outputs: [1] }),
    ).toBe(false);
    expect(
      results({
        leases: [],
        outputs: [],
        failures: [{ lease: 3, error: 'boom', kind: 'oops' }],
      }),
    ).toBe(false);
    expect(
      results({
        leases: [],
        outputs: [],
        failures: [{ lease: 3, error: 'boom', kind: 'error', ok: false }],
      }),
    ).toBe(false);
    expect(
      results({
        leases: [],
        outputs: [],
        failures: [{ lease: 3, error: 'x'.repeat(5_000), kind: 'error' }],
      }),
    ).toBe(false);
    // The v1 shape is refused.
    expect(results({ results: [{ lease: 1, ok: true, output: 1 }] })).toBe(
      false,
    );
    // Exactly maxBatch in all is fine; one more is not, however it is split.
    const n = LIMITS.maxBatch;
    const leases = Array.from({ length: n }, (_, i) => i);
    expect(results({ leases, outputs: leases })).toBe(true);
    expect(results({ leases: [...leases, n], outputs: [...leases, n] })).toBe(
      false,
    );
    expect(
      results({
        leases: leases.slice(1),
        outputs: leases.slice(1),
        failures: [{ lease: 0, error: 'x', kind: 'error' }],
      }),
    ).toBe(true);
    expect(
      results({
        leases,
        outputs: leases,
        failures: [{ lease: n, error: 'x', kind: 'error' }],
      }),
    ).toBe(false);
  });

  const job = { module: MODULE, timeoutMs: 1000, name: 'x' };
  const group = (jobId: string, leases: number[]) => ({
    job: jobId,
    leases,
    indexes: leases.map((l) => l * 10),
    attempts: leases.map(() => 1),
    inputs: leases.map((l) => ({ l })),
  });
  const tasks = (fields: Record<string, unknown>) =>
    decodeWorkerBoundMessage(JSON.stringify({ type: 'tasks', ...fields })).ok;

  test('tasks: every group names a described job, columns of equal length, at most maxBatch tasks', () => {
    expect(tasks({ jobs: { '1': job }, groups: [group('1', [1, 2])] })).toBe(
      true,
    );
    expect(
      tasks({
        jobs: { '1': job, '2': job },
        groups: [group('1', [1]), group('2', [2]), group('1', [3])],
      }),
    ).toBe(true);
    // A group of a job the frame does not describe.
    expect(tasks({ jobs: { '1': job }, groups: [group('2', [1])] })).toBe(
      false,
    );
    expect(tasks({ jobs: {}, groups: [group('1', [1])] })).toBe(false);
    // No groups, an empty group.
    expect(tasks({ jobs: { '1': job }, groups: [] })).toBe(false);
    expect(tasks({ jobs: { '1': job }, groups: [group('1', [])] })).toBe(false);
    // Each column shorter or longer than the leases.
    for (const column of ['indexes', 'attempts', 'inputs'] as const) {
      const short = group('1', [1, 2]);
      short[column].pop();
      expect(tasks({ jobs: { '1': job }, groups: [short] })).toBe(false);
      const long = group('1', [1, 2]);
      (long[column] as unknown[]).push(long[column][0]);
      expect(tasks({ jobs: { '1': job }, groups: [long] })).toBe(false);
    }
    // Bad leases, indexes, attempts.
    expect(tasks({ jobs: { '1': job }, groups: [group('1', [-1])] })).toBe(
      false,
    );
    expect(
      tasks({
        jobs: { '1': job },
        groups: [{ ...group('1', [1]), attempts: [0] }],
      }),
    ).toBe(false);
    expect(
      tasks({
        jobs: { '1': job },
        groups: [{ ...group('1', [1]), indexes: [0.5] }],
      }),
    ).toBe(false);
    // A bad job description, even of a job no group names.
    expect(
      tasks({
        jobs: { '1': job, '2': { ...job, module: 'A'.repeat(64) } },
        groups: [group('1', [1])],
      }),
    ).toBe(false);
    // The v1 shape is refused.
    expect(
      tasks({
        jobs: { '1': job },
        tasks: [{ job: '1', index: 0, lease: 1, attempt: 1, input: 0 }],
      }),
    ).toBe(false);
    // Exactly maxBatch tasks is fine; one more is not, however it is split.
    const n = LIMITS.maxBatch;
    const leases = Array.from({ length: n }, (_, i) => i);
    expect(tasks({ jobs: { '1': job }, groups: [group('1', leases)] })).toBe(
      true,
    );
    expect(
      tasks({ jobs: { '1': job }, groups: [group('1', [...leases, n])] }),
    ).toBe(false);
    expect(
      tasks({
        jobs: { '1': job, '2': job },
        groups: [
          group('1', leases.slice(0, n / 2 + 1)),
          group('2', leases.slice(n / 2)),
        ],
      }),
    ).toBe(false);
  });

  test('expandTasks gives each group its job facts', () => {
    const message = Tasks.parse({
      type: 'tasks',
      jobs: { '1': job, '2': { ...job, name: 'y', timeoutMs: 5 } },
      groups: [group('2', [7]), group('1', [8, 9])],
    });
    expect(expandTasks(message)).toEqual([
      { ...group('2', [7]), ...job, name: 'y', timeoutMs: 5 },
      { ...group('1', [8, 9]), ...job },
    ]);
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
      leases: [1],
      outputs: [{ pixels: blob }],
    });
    expect(frame instanceof Uint8Array).toBe(true);
    expect((frame as Uint8Array).byteLength).toBeLessThan(1_000_200);
    const decoded = decodeWorkerMessage(frame);
    expect(decoded.ok).toBe(true);
    if (decoded.ok && decoded.value.type === 'results') {
      const pixels = (decoded.value.outputs[0] as { pixels: Uint8Array })
        .pixels;
      expect(pixels instanceof Uint8Array).toBe(true);
      // Compared as buffers: a deep equal of a million elements is needlessly slow.
      expect(Buffer.compare(pixels, blob)).toBe(0);
    } else expect.unreachable('not a results message');
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
      jobs: { '1': { module: MODULE, timeoutMs: 1000, name: 'x' } },
      groups: [
        {
          job: '1',
          leases: [5],
          indexes: [0],
          attempts: [1],
          inputs: [new Uint8Array([1, 2, 3])],
        },
      ],
    };
    const decoded = decodeWorkerBoundMessage(encodeFrame(tasks));
    expect(decoded.ok && WorkerBoundMessage.parse(decoded.value)).toEqual(
      tasks,
    );
    // A group naming a job the frame does not describe is refused.
    const orphan = { ...tasks, groups: [{ ...tasks.groups[0], job: '2' }] };
    expect(decodeWorkerBoundMessage(encodeFrame(orphan)).ok).toBe(false);
  });

  test('buildTasksFrame: one group per job in the order the tasks came, text or binary', () => {
    const jobs = new Map([
      ['7', { name: 'seven', moduleHash: MODULE, timeoutMs: 1_000 }],
      [
        '8',
        { name: 'eight "quoted"', moduleHash: 'b'.repeat(64), timeoutMs: 2 },
      ],
    ]);
    const assignments = [
      { jobId: '7', index: 0, lease: 10, attempt: 1 },
      { jobId: '8', index: 3, lease: 11, attempt: 2 },
      { jobId: '7', index: 1, lease: 12, attempt: 1 },
    ];
    const expected = {
      type: 'tasks',
      jobs: {
        '7': { module: MODULE, timeoutMs: 1_000, name: 'seven' },
        '8': { module: 'b'.repeat(64), timeoutMs: 2, name: 'eight "quoted"' },
      },
      groups: [
        {
          job: '7',
          leases: [10, 12],
          indexes: [0, 1],
          attempts: [1, 1],
          inputs: [{ x: 0 }, 'one'],
        },
        { job: '8', leases: [11], indexes: [3], attempts: [2], inputs: [null] },
      ],
    };
    // Stored inputs are JSON text, spliced into a text frame as they are.
    const text = unbranded(buildTasksFrame)(
      assignments,
      ['{"x":0}', 'null', '"one"'],
      jobs,
    );
    expect(typeof text).toBe('string');
    expect(JSON.parse(text as string)).toEqual(expected);
    expect(decodeWorkerBoundMessage(text)).toEqual({
      ok: true,
      value: expected,
    });
    expect(Tasks.safeParse(JSON.parse(text as string)).success).toBe(true);
    // A binary input makes the whole frame binary; other inputs are unchanged.
    const bytes = new Uint8Array([1, 2, 3]);
    const binary = unbranded(buildTasksFrame)(
      assignments,
      ['{"x":0}', encodeFrame(bytes) as Uint8Array, '"one"'],
      jobs,
    );
    expect(binary instanceof Uint8Array).toBe(true);
    const decoded = decodeWorkerBoundMessage(binary);
    expect(decoded).toEqual({
      ok: true,
      value: {
        ...expected,
        groups: [
          expected.groups[0],
          { ...expected.groups[1], inputs: [bytes] },
        ],
      },
    });
  });
});

/**
 * The decoders take a fast path for `results` and `tasks` and fall back to zod for
 * anything it refuses. Both must accept exactly the same frames: the fast path must
 * not accept what zod refuses (`decode` would let it through), and should not refuse
 * what zod accepts (it would cost a zod parse on the hot path). The spy tells which
 * path answered.
 */
// Thousands of generated frames each: seconds on a busy machine, hence the longer timeout.
describe(
  'hot-path decoders agree with the zod schemas',
  { timeout: 30_000 },
  () => {
    afterEach(() => {
      vi.restoreAllMocks();
    });

    /** Decodes `text` and says whether the fast path accepted it (zod never ran). */
    function decodeBoth(
      text: string,
      decode: (frame: string) => { ok: boolean },
      zodCalls: { mock: { calls: unknown[] }; mockClear(): void },
    ): { ok: boolean; fast: boolean } {
      zodCalls.mockClear();
      const { ok } = decode(text);
      return { ok, fast: ok && zodCalls.mock.calls.length === 0 };
    }

    /** Leave a key out of the frame when its arbitrary gives `undefined`. */
    const defined = (fields: Record<string, unknown>) =>
      Object.fromEntries(
        Object.entries(fields).filter(([, v]) => v !== undefined),
      );
    /** Mostly `valid`, now and then one of `invalid` (`undefined`: the key is left out). */
    const mostly = (
      valid: fc.Arbitrary<unknown>,
      ...invalid: fc.Arbitrary<unknown>[]
    ) => weighted(40, valid, invalid);
    /** Even more often `valid`: for the values in a column, of which there are many. */
    const nearly = (
      valid: fc.Arbitrary<unknown>,
      ...invalid: fc.Arbitrary<unknown>[]
    ) => weighted(300, valid, invalid);
    const weighted = (
      weight: number,
      valid: fc.Arbitrary<unknown>,
      invalid: fc.Arbitrary<unknown>[],
    ): fc.Arbitrary<unknown> =>
      fc.oneof(
        { weight, arbitrary: valid },
        ...invalid.map((arbitrary) => ({ weight: 1, arbitrary })),
      );
    /** Mostly absent, now and then one of `values`. */
    const rarely = (...values: fc.Arbitrary<unknown>[]) =>
      mostly(fc.constant(undefined), ...values);

    const lease = nearly(
      fc.nat(),
      fc.integer({ max: -1 }),
      fc.double(),
      fc.constant(Number.MAX_SAFE_INTEGER),
      fc.constant(Number.MAX_SAFE_INTEGER + 2),
      fc.string(),
      fc.constant(null),
    );
    /** A column of `n` values, mostly; now and then of another length, or not an array. */
    const column = (n: number, value: fc.Arbitrary<unknown>) =>
      mostly(
        fc.array(value, { minLength: n, maxLength: n }),
        fc.array(value, { maxLength: 4 }),
        fc.array(value, { minLength: n + 1, maxLength: n + 1 }),
        fc.jsonValue(),
      );

    const failure = fc
      .record({
        lease,
        error: mostly(
          fc.string(),
          fc.constant('x'.repeat(LIMITS.maxErrorLength)),
          fc.constant('x'.repeat(LIMITS.maxErrorLength + 1)),
          fc.nat(),
          fc.constant(undefined),
        ),
        kind: mostly(
          fc.constantFrom('error', 'crash'),
          fc.string(),
          fc.constant(undefined),
        ),
        ok: rarely(fc.constant(false)),
        extra: rarely(fc.nat()),
      })
      .map(defined);
    const results = fc
      .nat({ max: 4 })
      .chain((n) =>
        fc.record({
          leases: mostly(column(n, lease), fc.constant(undefined)),
          outputs: mostly(column(n, fc.jsonValue()), fc.constant(undefined)),
          // Failures are rare: mostly none.
          failures: fc.oneof(
            { weight: 3, arbitrary: fc.constant(undefined) },
            { weight: 3, arbitrary: fc.array(failure, { maxLength: 3 }) },
            fc.jsonValue(),
          ),
          credit: fc.oneof(
            { weight: 3, arbitrary: fc.constant(undefined) },
            {
              weight: 3,
              arbitrary: fc.integer({ min: 1, max: LIMITS.maxCredit }),
            },
            fc.constantFrom(0, LIMITS.maxCredit + 1, 1.5, '3', null),
          ),
          extra: rarely(fc.nat()),
        }),
      )
      .map(defined);
    const bigResults = (leases: number, failures: number) => ({
      leases: Array.from({ length: leases }, (_, i) => i),
      outputs: Array.from({ length: leases }, (_, i) => i),
      ...(failures > 0
        ? {
            failures: Array.from({ length: failures }, (_, i) => ({
              lease: leases + i,
              error: 'e',
              kind: 'error',
            })),
          }
        : {}),
    });

    test('results', () => {
      const zodCalls = vi.spyOn(WorkerMessage, 'safeParse');
      const agree = (fields: Record<string, unknown>): boolean => {
        const text = JSON.stringify({ type: 'results', ...fields });
        const zod = Results.safeParse(JSON.parse(text)).success;
        const got = decodeBoth(text, decodeWorkerMessage, zodCalls);
        expect(got.ok).toBe(zod);
        expect(got.fast).toBe(zod);
        return zod;
      };
      let accepted = 0;
      fc.assert(
        fc.property(results, (fields) => {
          if (agree(fields)) accepted++;
        }),
        { numRuns: 2_000 },
      );
      // The arbitraries must make both valid and invalid frames, or they prove little.
      expect(accepted).toBeGreaterThan(300);
      expect(accepted).toBeLessThan(1_700);
      // Around maxBatch in all (too big to generate at random): as many as allowed, and
      // one too many in either column.
      expect(agree(bigResults(LIMITS.maxBatch, 0))).toBe(true);
      expect(agree(bigResults(LIMITS.maxBatch - 1, 1))).toBe(true);
      expect(agree(bigResults(LIMITS.maxBatch + 1, 0))).toBe(false);
      expect(agree(bigResults(LIMITS.maxBatch, 1))).toBe(false);
      expect(agree(bigResults(0, LIMITS.maxBatch + 1))).toBe(false);
    });

    /** Mostly one of the frame's jobs; now and then an undescribed or invalid id. */
    const jobId: fc.Arbitrary<string> = fc.oneof(
      { weight: 40, arbitrary: fc.constantFrom('1', '2') },
      fc.string(),
      fc.constant(''),
      fc.constant('j'.repeat(64)),
      fc.constant('j'.repeat(65)),
      // JSON.parse keeps a `__proto__` key that zod's record drops.
      fc.constant('__proto__'),
    );
    const jobWire = fc
      .record({
        module: mostly(
          fc.constant(MODULE),
          fc.constant('A'.repeat(64)),
          fc.constant('a'.repeat(63)),
          fc.string(),
          fc.constant(undefined),
        ),
        timeoutMs: mostly(
          fc.integer({ min: 1, max: 3_600_000 }),
          fc.integer({ max: 0 }),
          fc.double(),
          fc.constant(undefined),
        ),
        name: mostly(fc.string(), fc.nat(), fc.constant(undefined)),
        extra: rarely(fc.nat()),
      })
      .map(defined);
    /** Job '1' is always described and job '2' often; now and then other ids. */
    const jobs = mostly(
      fc
        .record(
          {
            '1': jobWire,
            '2': jobWire,
            other: mostly(
              fc.constant({}),
              fc.dictionary(jobId, jobWire, { minKeys: 1, maxKeys: 2 }),
              jobWire.map((job) => ({ ['__proto__']: job })),
            ),
          },
          { requiredKeys: ['1', 'other'] },
        )
        .map(({ other, ...described }) => ({
          ...(other as object),
          ...described,
        })),
      fc.dictionary(jobId, jobWire, { maxKeys: 3 }),
      fc.jsonValue(),
      fc.constant(undefined),
    );
    const attempt = nearly(
      fc.integer({ min: 1, max: 5 }),
      fc.integer({ max: 0 }),
      fc.double(),
      fc.string(),
    );
    const group = fc
      .integer({ min: 1, max: 3 })
      .chain((n) =>
        fc.record({
          // Job '2' is not always described: a group of a missing job.
          job: fc.oneof(
            { weight: 16, arbitrary: fc.constant('1') },
            { weight: 2, arbitrary: fc.constant('2') },
            jobId,
            fc.constant(undefined),
          ),
          leases: column(n, lease),
          indexes: column(n, lease),
          attempts: column(n, attempt),
          inputs: column(n, fc.jsonValue()),
          extra: rarely(fc.nat()),
        }),
      )
      .map(defined);
    const tasks = fc
      .record({
        jobs,
        groups: mostly(
          fc.array(group, { minLength: 1, maxLength: 3 }),
          fc.constant([]),
          fc.array(
            fc.constant({
              job: '1',
              leases: [],
              indexes: [],
              attempts: [],
              inputs: [],
            }),
            { minLength: 1, maxLength: 2 },
          ),
          fc.jsonValue(),
          fc.constant(undefined),
        ),
        extra: rarely(fc.nat()),
      })
      .map(defined);
    /** `groups` groups of `each` valid tasks of job '1'. */
    const bigTasks = (groups: number, each: number) => ({
      jobs: { '1': { module: MODULE, timeoutMs: 1000, name: 'big' } },
      groups: Array.from({ length: groups }, (_, g) => {
        const leases = Array.from({ length: each }, (_, i) => g * each + i);
        return {
          job: '1',
          leases,
          indexes: leases,
          attempts: leases.map(() => 1),
          inputs: leases,
        };
      }),
    });

    test('ack', () => {
      const zodCalls = vi.spyOn(WorkerBoundMessage, 'safeParse');
      const ack = fc
        .record({
          count: mostly(
            fc.integer({ min: 1, max: 1_000_000 }),
            fc.integer({ max: 0 }),
            fc.double(),
            fc.string(),
            fc.constant(Number.MAX_SAFE_INTEGER + 2),
          ),
          extra: rarely(fc.nat()),
        })
        .map(defined);
      let accepted = 0;
      fc.assert(
        fc.property(ack, (fields) => {
          const text = JSON.stringify({ type: 'ack', ...fields });
          const zod = WorkerBoundMessage.safeParse(JSON.parse(text)).success;
          const got = decodeBoth(text, decodeWorkerBoundMessage, zodCalls);
          expect(got.ok).toBe(zod);
          expect(got.fast).toBe(zod);
          if (zod) accepted++;
        }),
        { numRuns: 500 },
      );
      expect(accepted).toBeGreaterThan(100);
      expect(accepted).toBeLessThan(490);
    });

    test('tasks', () => {
      const zodCalls = vi.spyOn(WorkerBoundMessage, 'safeParse');
      const agree = (fields: Record<string, unknown>): boolean => {
        const text = JSON.stringify({ type: 'tasks', ...fields });
        const zod = Tasks.safeParse(JSON.parse(text)).success;
        const got = decodeBoth(text, decodeWorkerBoundMessage, zodCalls);
        expect(got.ok).toBe(zod);
        // A `__proto__` job id is left to zod: the fast path may refuse, never accept alone.
        if (text.includes('"__proto__"')) expect(!got.fast || zod).toBe(true);
        else expect(got.fast).toBe(zod);
        return zod;
      };
      let accepted = 0;
      fc.assert(
        fc.property(tasks, (fields) => {
          if (agree(fields)) accepted++;
        }),
        { numRuns: 2_000 },
      );
      // The arbitraries must make both valid and invalid frames, or they prove little.
      expect(accepted).toBeGreaterThan(300);
      expect(accepted).toBeLessThan(1_700);
      // Around maxBatch tasks: as many as allowed, one too many, in one group or many.
      const half = LIMITS.maxBatch / 2;
      expect(agree(bigTasks(1, LIMITS.maxBatch))).toBe(true);
      expect(agree(bigTasks(2, half))).toBe(true);
      expect(agree(bigTasks(LIMITS.maxBatch, 1))).toBe(true);
      expect(agree(bigTasks(1, LIMITS.maxBatch + 1))).toBe(false);
      expect(agree(bigTasks(2, half + 1))).toBe(false);
      expect(agree(bigTasks(LIMITS.maxBatch + 1, 1))).toBe(false);
    });
  },
);

describe('worker-bound and dashboard frames are separate unions', () => {
  const snapshot = {
    type: 'snapshot',
    at: 1,
    jobs: [],
    workers: [],
    events: [],
    throughput: [],
  };
  const ack = { type: 'ack', count: 1 };
  test('a worker decodes no dashboard frame', () => {
    expect(decodeWorkerBoundMessage(JSON.stringify(ack)).ok).toBe(true);
    expect(decodeWorkerBoundMessage(JSON.stringify(snapshot)).ok).toBe(false);
  });
  test('a dashboard decodes no worker frame', () => {
    expect(decodeDashboardMessage(JSON.stringify(snapshot))).toMatchObject({
      ok: DashboardMessage.safeParse(snapshot).success,
    });
    expect(decodeDashboardMessage(JSON.stringify(ack)).ok).toBe(false);
  });
});
