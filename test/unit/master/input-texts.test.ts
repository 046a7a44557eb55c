import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { AppError } from '../../../shared/errors.js';
import {
  bodyText,
  scanNdjsonInputs,
  scanSubmitBody,
} from '../../../server/master/input-texts.js';
import { scanResultsFrame } from '../../../server/master/results-text.js';
import { decodeStored } from '../../../server/master/store/value-codec.js';

describe('scanSubmitBody', () => {
  test('keeps compact inputs as their text and parses the other members', () => {
    const text =
      '{"name":"n","module":"export default x=>x","inputs":[{"id":"a","x":1},[2],"s",null],"sealed":true}';
    const { body, inputs } = scanSubmitBody(text);
    expect(body).toEqual({
      name: 'n',
      module: 'export default x=>x',
      sealed: true,
    });
    expect(inputs).toEqual(['{"id":"a","x":1}', '[2]', '"s"', 'null']);
  });

  test('writes spaced inputs compactly and stores $base64 inputs as bytes', () => {
    const { inputs } = scanSubmitBody(
      '{ "inputs" : [ { "a" : 1 } , {"$base64":"AAEC"} ] }',
    );
    expect(inputs?.[0]).toBe('{"a":1}');
    expect(decodeStored(inputs![1]!)).toEqual(new Uint8Array([0, 1, 2]));
  });

  test("each input's facts are its own: bytes or spaces do not leak to the next", () => {
    const { inputs } = scanSubmitBody(
      '{"inputs":[{"$base64":"AA=="},{"a":"$base64"},{"b" :2},{"c":[3]}]}',
    );
    expect(decodeStored(inputs![0]!)).toEqual(new Uint8Array([0]));
    expect(inputs!.slice(1)).toEqual([
      '{"a":"$base64"}',
      '{"b":2}',
      '{"c":[3]}',
    ]);
    expect(scanSubmitBody('{"inputs":[ ]}').inputs).toEqual([]);
    expect(() => scanSubmitBody('{"inputs":[1 2]}')).toThrow(
      /body is not valid JSON/,
    );
  });

  test('no inputs, or inputs that are not an array, are left to validation', () => {
    expect(scanSubmitBody('{"name":"n"}').inputs).toBeUndefined();
    const { body, inputs } = scanSubmitBody('{"inputs":"nope"}');
    expect(inputs).toBeUndefined();
    expect(body).toEqual({ inputs: 'nope' });
  });

  test('of repeated `inputs` members the last wins, as in JSON.parse', () => {
    expect(scanSubmitBody('{"inputs":"x","inputs":[1,2]}')).toEqual({
      body: {},
      inputs: ['1', '2'],
    });
    expect(scanSubmitBody('{"inputs":[1],"inputs":"x"}')).toEqual({
      body: { inputs: 'x' },
      inputs: undefined,
    });
    expect(scanSubmitBody('{"inputs":[1],"n":0,"inputs":[[3]]}')).toEqual({
      body: { n: 0 },
      inputs: ['[3]'],
    });
  });

  test("a body that is not JSON gets a 400 error with JSON.parse's reason", () => {
    for (const bad of ['{"name":', '{"inputs":[1,]}', '[1]', '']) {
      expect(() => scanSubmitBody(bad)).toThrow(AppError);
      expect(() => scanSubmitBody(bad)).toThrow(/body is not valid JSON/);
    }
  });
});

describe('bodyText', () => {
  test('decodes ASCII and UTF-8 bodies alike, bad bytes as U+FFFD', () => {
    for (const text of ['{"a":"plain"}', '{"a":"é ✓ 😀"}', ''])
      expect(bodyText(Buffer.from(text, 'utf8'))).toBe(text);
    expect(bodyText(Buffer.from([0x22, 0xff, 0x22]))).toBe('"\ufffd"');
  });
});

describe('scanNdjsonInputs', () => {
  test('one stored input per non-blank line, trimmed', () => {
    expect(scanNdjsonInputs('1\n\n {"a":"b"} \r\n[1, 2]\n')).toEqual([
      '1',
      '{"a":"b"}',
      '[1,2]',
    ]);
  });

  test('a bad line names its number and refuses the whole body', () => {
    expect(() => scanNdjsonInputs('1\n2\n{x}\n')).toThrow(/line 3 is not JSON/);
  });

  test('a value is one line: one left open is refused, even if the next lines close it', () => {
    expect(() => scanNdjsonInputs('1\n[2,\n3]\n')).toThrow(
      /line 2 is not JSON/,
    );
    expect(() => scanNdjsonInputs('{"a":\n1}')).toThrow(/line 1 is not JSON/);
    expect(() => scanNdjsonInputs('[1] [2]\n')).toThrow(/line 1 is not JSON/);
  });

  test('each line is stored as the compact JSON of its value, bytes as bytes', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.tuple(fc.jsonValue(), fc.constantFrom('', ' ', '\t', '\r')),
          { maxLength: 50 },
        ),
        (lines) => {
          const text = lines
            .map(([value, pad], i) =>
              i % 3 === 0
                ? `${pad}${JSON.stringify(value, null, 1).replaceAll('\n', ' ')}`
                : `${JSON.stringify(value)}${pad}`,
            )
            .join('\n');
          expect(scanNdjsonInputs(text)).toEqual(
            lines.map(([value]) => JSON.stringify(value)),
          );
        },
      ),
      { numRuns: 100 },
    );
    const [bytes, text] = scanNdjsonInputs('{"$base64":"AAH+/w=="}\n"x"');
    expect(decodeStored(bytes!)).toEqual(new Uint8Array([0, 1, 254, 255]));
    expect(text).toBe('"x"');
  });
});

describe('scanResultsFrame', () => {
  test('outputs come out as the text the worker sent', () => {
    const scanned = scanResultsFrame(
      '{"type":"results","leases":[4,5],"outputs":[{"id":"a","y":2},"z"],"credit":2}',
    );
    expect(scanned?.outputs).toEqual(['{"id":"a","y":2}', '"z"']);
    expect(scanned?.message).toMatchObject({ leases: [4, 5], credit: 2 });
  });

  test('a small frame keeps each output as sent, even where JSON.stringify writes it otherwise', () => {
    // Small frames are parsed whole; their outputs are still the worker's own text.
    const scanned = scanResultsFrame(
      '{"type":"results","leases":[7,8,9],"outputs":[1.50,"\\u0041",{"__proto__":1}]}',
    );
    expect(scanned?.outputs).toEqual(['1.50', '"\\u0041"', '{"__proto__":1}']);
    const plain = scanResultsFrame(
      '{"type":"results","leases":[7],"outputs":[{"id":"task-7","next":8}],"credit":1}',
    );
    expect(plain?.outputs).toEqual(['{"id":"task-7","next":8}']);
    expect(plain?.message).toMatchObject({ leases: [7], credit: 1 });
  });

  test('spaced outputs are written compactly', () => {
    const scanned = scanResultsFrame(
      '{"type":"results","leases":[1],"outputs":[{ "a" : [1, 2] }]}',
    );
    expect(scanned?.outputs).toEqual(['{"a":[1,2]}']);
  });

  test('outputs are bounded in depth as the whole frame is, and the last `outputs` wins', () => {
    const frame = (depth: number) =>
      `{"type":"results","leases":[1],"outputs":[${'['.repeat(depth)}${']'.repeat(depth)}]}`;
    // The frame's object and the outputs array take two of the levels.
    expect(scanResultsFrame(frame(254))?.outputs).toHaveLength(1);
    expect(scanResultsFrame(frame(255))).toBeUndefined();
    expect(
      scanResultsFrame(
        '{"type":"results","leases":[1],"outputs":[1],"outputs":[{"b":2}]}',
      )?.outputs,
    ).toEqual(['{"b":2}']);
  });

  test('anything not a valid results message is left to the full decoder', () => {
    for (const bad of [
      '{"type":"results","leases":[1],"outputs":[1,2]}',
      '{"type":"results","leases":[1],"outputs":[1,]}',
      '{"type":"results","leases":[-1],"outputs":[1]}',
      '{"type":"results","leases":[1],"outputs":[1],"extra":1}',
      '{"type":"ready","credit":1}',
      '{"type":"results","leases":[1],"outputs":[1]',
    ])
      expect(scanResultsFrame(bad), bad).toBeUndefined();
  });
});
