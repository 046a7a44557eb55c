/** Task inputs kept as JSON text from the frame to the thread, and outputs back. */
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { decodeFrame, encodeFrame } from '../../../shared/codec.js';
import {
  JsonText,
  checkedText,
  encodeMessage,
  encodeResults,
  outputText,
} from '../../../shared/json-text.js';
import {
  decodeTasksText,
  hasRecordInputs,
} from '../../../shared/tasks-text.js';
import { lease } from '../../helpers/ids.js';
import {
  MODULE,
  masterFrame,
  plainBatches,
} from '../../helpers/task-frames.js';

describe('tasks frames with inputs as text', () => {
  test('give the batches of the plain decoder, each input its JSON text', () => {
    fc.assert(
      fc.property(
        fc.array(fc.jsonValue({ maxDepth: 4 }), {
          minLength: 1,
          maxLength: 30,
        }),
        (inputs) => {
          const frame = masterFrame(inputs);
          const batches = decodeTasksText(frame);
          expect(batches).not.toBeNull();
          const plain = plainBatches(frame);
          expect(batches?.length).toBe(plain.length);
          batches?.forEach((batch, g) => {
            const want = plain[g];
            expect(batch.inputsJson).toBe(true);
            expect({
              ...batch,
              inputs: [],
              inputsJson: undefined,
              inputsSpan: undefined,
            }).toEqual({
              ...want,
              inputs: [],
              inputsJson: undefined,
              inputsSpan: undefined,
            });
            // The master's compact frame: the texts also as one span of it.
            expect(batch.inputsSpan).toBe((batch.inputs as string[]).join(','));
            const values = (batch.inputs as string[]).map(
              (text) => JSON.parse(text) as unknown,
            );
            expect(values).toEqual(want?.inputs);
          });
        },
      ),
      { numRuns: 200 },
    );
  });

  test('keeps each record as the exact text it has in the frame', () => {
    const frame =
      '{"type":"tasks","jobs":{"j":{"module":"' +
      MODULE +
      '","timeoutMs":5,"name":"n"}},"groups":[{"job":"j","leases":[1,2],' +
      '"indexes":[0,1],"attempts":[1,1],' +
      '"inputs":[{"inputs":[{"x":"]\\"}"}]} , [ 1, {"a":"\\u00e9"} ]]}]}';
    expect(hasRecordInputs(frame)).toBe(true);
    const batches = decodeTasksText(frame);
    expect(batches?.[0]?.inputs).toEqual([
      '{"inputs":[{"x":"]\\"}"}]}',
      '[ 1, {"a":"\\u00e9"} ]',
    ]);
  });

  test('leaves frames of numbers to the plain decoder', () => {
    expect(hasRecordInputs(masterFrame([1, 2, 3]))).toBe(false);
    expect(hasRecordInputs(masterFrame([{ a: 1 }, 2]))).toBe(true);
    expect(hasRecordInputs('{"type":"ack","count":1}')).toBe(false);
  });

  test('returns null for what it does not take, as the plain decoder refuses it', () => {
    const good = masterFrame([{ a: 1 }, { b: 2 }]);
    const bad = [
      good.slice(0, -2), // cut short
      good.replace('"leases":[101', '"leases":[-1'), // not a lease
      good.replace('"inputs":[{"b":2}]', '"inputs":[{"b":2},{"c":3}]'), // columns differ
      good.replace('"inputs":[{"b":2}]', '"inputs":{"b":2}'), // not an array
      good.replace('"inputs":[{"b":2}]', '"inp\\u0075ts":[{"b":2}]'), // escaped key
      good.replace('"indexes":[', '"indexes":[,'), // not JSON
      good.replace('"inputs":[{"b":2}]', '"inputs":[{"b":2},]'), // an empty input
      `${good} x`,
    ];
    for (const frame of bad) {
      expect(decodeTasksText(frame)).toBeNull();
    }
    expect(decodeTasksText(good)).not.toBeNull();
  });

  test('an input that is not JSON is split out as it is (its task thread refuses it)', () => {
    const frame = masterFrame([{ a: 1 }, { b: 2 }]).replace(
      '{"b":2}',
      '{"b":2,}',
    );
    const inputs = decodeTasksText(frame)?.flatMap((batch) => batch.inputs);
    expect(inputs).toEqual(['{"a":1}', '{"b":2,}']);
  });
});

describe('hostile inputs in a tasks frame', () => {
  /** A one-group frame whose inputs column is `inputs` (texts spliced as given). */
  const frameOf = (inputs: string[]): string =>
    '{"type":"tasks","jobs":{"j":{"module":"' +
    MODULE +
    '","timeoutMs":5,"name":"n"}},"groups":[{"job":"j","leases":[' +
    inputs.map((_, i) => i + 1).join(',') +
    '],"indexes":[' +
    inputs.map((_, i) => i).join(',') +
    '],"attempts":[' +
    inputs.map(() => 1).join(',') +
    '],"inputs":[' +
    inputs.join(',') +
    ']}]}';

  test('odd records are split out exactly, and parse as the plain decoder gives them', () => {
    const inputs = [
      `{"deep":${'['.repeat(500)}${']'.repeat(500)}}`,
      `{"huge":"${'\\"]},'.repeat(50_000)}"}`,
      '{"$base64":"AAEC"}',
      '{"b":{"$base64":"AAEC","x":1}}',
      '{"e":"\\u00e9\\ud83e\\udd84\\u2028","lone":"\\ud800","low":"\\udc00"}',
      '{"n":[-0,1e400,-1e400,0.1e-400,1E+2,9007199254740993]}',
      '{"k\\"]}":"v\\\\","":{"":[]}}',
      '["]","}","\\\\",",",{"[":"{"}]',
    ];
    const frame = frameOf(inputs);
    const batches = decodeTasksText(frame);
    expect(batches?.[0]?.inputs).toEqual(inputs);
    const plain = plainBatches(frame);
    expect(
      (batches?.[0]?.inputs as string[]).map((t) => JSON.parse(t) as unknown),
    ).toEqual(plain[0]?.inputs);
  });

  test('a frame that is not JSON, or a group of another shape, is left to the plain decoder', () => {
    const good = frameOf(['{"a":1}']);
    for (const frame of [
      good.replace('{"a":1}', '{"a":"\\'), // string never closed
      good.replace('{"a":1}', '{"a":[1}'), // brackets do not match
      good.replace('{"a":1}', '{"a":1}]]]'),
      good.replace('"job":"j",', '"job":"j","resume":[{"at":0,"state":1}],'),
      good.replace('"leases":[1]', '"leases":[1.5]'),
      good.replace('"jobs":{', '"jobs":{"__proto__":{},'),
    ])
      expect(decodeTasksText(frame)).toBeNull();
  });
});

describe('outputs as JSON text', () => {
  test('records and arrays become text; primitives and bytes do not', () => {
    expect(outputText({ a: [1, 'x'] })).toBe('{"a":[1,"x"]}');
    expect(outputText([null])).toBe('[null]');
    expect(outputText(3)).toBeUndefined();
    expect(outputText('s')).toBeUndefined();
    expect(outputText(null)).toBeUndefined();
    expect(outputText({ b: new Uint8Array([1]) })).toBeUndefined();
    expect(() => outputText({ n: 1n })).toThrow();
  });

  test('output text nested too deeply, or with a bad escape or a raw control character, is refused', () => {
    expect(checkedText(`${'['.repeat(300)}${']'.repeat(300)}`)).toBeNull();
    expect(checkedText(`${'['.repeat(200)}${']'.repeat(200)}`)).not.toBeNull();
    expect(checkedText('{"a":"\\\\x"}')).not.toBeNull();
    expect(checkedText('{"a":"\\q"}')).toBeNull();
    expect(checkedText('{"a":"\u0001"}')).toBeNull();
    expect(checkedText('{"a":"\\ud800"}')).toEqual(
      new JsonText('{"a":"\\ud800"}'),
    );
    expect(checkedText(`{"h":"${'x'.repeat(1_000_000)}"}`)).not.toBeNull();
  });

  test('only one compact JSON value is taken from a thread as text', () => {
    expect(checkedText('{"a":1}')).toEqual(new JsonText('{"a":1}'));
    for (const text of [
      '{"a":1},{"b":2}',
      '{"a":1}]',
      '{ "a": 1 }',
      '',
      '{"a":1',
      5,
      null,
    ])
      expect(checkedText(text)).toBeNull();
  });

  test('a results frame splices texts in: the same JSON as the values written out', () => {
    fc.assert(
      fc.property(
        fc.array(fc.jsonValue({ maxDepth: 3 }), {
          minLength: 1,
          maxLength: 20,
        }),
        fc.boolean(),
        (values, withExtras) => {
          const outputs = values.map((v, i) =>
            i % 2 === 0 ? new JsonText(JSON.stringify(v)) : v,
          );
          const leases = values.map((_, i) => lease(i + 1));
          const extras = withExtras
            ? {
                failures: [
                  { lease: lease(99), error: 'no', kind: 'error' as const },
                ],
                busyMs: values.map((_, i) => i / 2),
                credit: 7,
              }
            : {};
          const frame = encodeResults({
            type: 'results',
            leases,
            outputs,
            ...extras,
          });
          expect(typeof frame).toBe('string');
          expect(JSON.parse(frame as string)).toEqual(
            JSON.parse(
              JSON.stringify({
                type: 'results',
                leases,
                outputs: values,
                ...extras,
              }),
            ),
          );
        },
      ),
      { numRuns: 200 },
    );
  });

  test('the session encodes results with texts spliced, any other message as encodeFrame does', () => {
    expect(encodeMessage({ type: 'ready', credit: 3 })).toBe(
      encodeFrame({ type: 'ready', credit: 3 }),
    );
    expect(
      encodeMessage({
        type: 'results',
        leases: [lease(4)],
        outputs: [new JsonText('{"a":"\\u00e9"}')],
      }),
    ).toBe('{"type":"results","leases":[4],"outputs":[{"a":"\\u00e9"}]}');
  });

  test('without texts it is encodeFrame; with bytes, a binary frame of the values', () => {
    const plain = {
      type: 'results' as const,
      leases: [lease(1)],
      outputs: [{ a: 1 }],
    };
    expect(encodeResults(plain)).toBe(encodeFrame(plain));
    const bytes = new Uint8Array([7, 8]);
    const frame = encodeResults({
      type: 'results',
      leases: [lease(1), lease(2)],
      outputs: [new JsonText('{"a":[1]}'), bytes],
    });
    expect(frame).toBeInstanceOf(Uint8Array);
    const decoded = decodeFrame(frame);
    expect(decoded.ok && decoded.value).toEqual({
      type: 'results',
      leases: [1, 2],
      outputs: [{ a: [1] }, bytes],
    });
  });
});
