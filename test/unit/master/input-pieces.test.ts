import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import {
  PIECE_BYTES,
  WHOLE_BYTES,
  piecewiseSubmit,
  scanNdjsonBytes,
  scanSubmitBytes,
} from '../../../server/master/input-pieces.js';
import {
  bodyText,
  scanNdjsonInputs,
  scanSubmitBody,
} from '../../../server/master/input-texts.js';
import { decodeStored } from '../../../server/master/store/value-codec.js';

const bytesOf = (text: string): Buffer => Buffer.from(text, 'utf8');

/** What the whole-string path makes of `bytes`: its result, or its error's message. */
function whole<T>(read: () => T): T | string {
  try {
    return read();
  } catch (error) {
    return (error as Error).message;
  }
}

const INPUTS = [
  '{"id":"é€😀","x":[1,{"y":"]}"}]}',
  '"a \\" quote, a ] bracket, a } brace and \\\\"',
  '[[1,2],[3,[4,{"z":null}]]]',
  '{"s":"\\u00e9\\n\\"\\\\","t":true}',
  '"😀😀😀😀"',
  '-1.5e3',
];

describe('scanSubmitBytes', () => {
  test('inputs cut across pieces come out as from the whole text, at every piece size', () => {
    const text = `{"name":"n","inputs":[${INPUTS.join(',')}],"sealed":true}`;
    const expected = scanSubmitBody(text);
    for (let piece = 1; piece <= text.length; piece++) {
      const bytes = bytesOf(text);
      expect(piecewiseSubmit(bytes, piece)).toEqual(expected);
      expect(scanSubmitBytes(bytes, piece)).toEqual(expected);
    }
    expect(expected.inputs).toEqual(INPUTS);
  });

  test('spaces, spaced inputs and $base64 inputs are stored as by the whole text', () => {
    const text =
      ' { "inputs" : [ { "a" : 1 } ,\n{"$base64":"AAEC"} , "é" ] , "name" : "x" } ';
    const { body, inputs } = piecewiseSubmit(bytesOf(text), 8)!;
    expect(body).toEqual({ name: 'x' });
    expect(inputs?.[0]).toBe('{"a":1}');
    expect(decodeStored(inputs![1]!)).toEqual(new Uint8Array([0, 1, 2]));
    expect(inputs?.[2]).toBe('"é"');
  });

  test('bodies it cannot cut take the whole-string path, with its messages', () => {
    const cases = [
      '{"inputs":[1,2,]}',
      '{"inputs":[1 2]}',
      '{"inputs":[1,2]',
      '{"inputs":[1],"inputs":[2]}',
      '{"\\u0069nputs":[1,2,3]}',
      '{"inputs":[{"$base64":"!!"}]}',
      '{"inputs":[1,2],"name":}',
      '{"inputs":"x"}',
      '[1,2,3]',
      '{"inputs":[1,2]} x',
      `{"inputs":[${'['.repeat(300)}${']'.repeat(300)}]}`,
    ];
    for (const text of cases) {
      const bytes = bytesOf(text);
      expect(whole(() => scanSubmitBytes(bytes, 2))).toEqual(
        whole(() => scanSubmitBody(bodyText(bytes))),
      );
    }
    expect(piecewiseSubmit(bytesOf(cases[3]!), 2)).toBeUndefined();
    expect(piecewiseSubmit(bytesOf(cases[4]!), 2)).toBeUndefined();
  });

  test('any body of JSON values is cut, and gives what the whole text gives', () => {
    fc.assert(
      fc.property(
        fc.array(fc.jsonValue(), { maxLength: 30 }),
        fc.integer({ min: 1, max: 64 }),
        fc.boolean(),
        (values, piece, spaced) => {
          const inputs = spaced
            ? JSON.stringify(values, null, 1)
            : JSON.stringify(values);
          const bytes = bytesOf(`{"a":1,"inputs":${inputs},"b":[2]}`);
          const expected = scanSubmitBody(bodyText(bytes));
          expect(piecewiseSubmit(bytes, piece)).toEqual(expected);
          expect(scanSubmitBytes(bytes, piece)).toEqual(expected);
        },
      ),
      { numRuns: 200 },
    );
  });
});

describe('scanNdjsonBytes', () => {
  test('lines cut across pieces come out as from the whole text, at every piece size', () => {
    const text = `${INPUTS.join('\n')}\n\n [1, 2] \r\n"last"`;
    const expected = scanNdjsonInputs(text);
    for (let piece = 1; piece <= text.length + 1; piece++)
      expect(scanNdjsonBytes(bytesOf(text), piece)).toEqual(expected);
  });

  test('a bad line is named by its number in the whole body', () => {
    const text = '1\n"é"\n[3]\n\n{x}\n6\n';
    for (let piece = 1; piece <= text.length; piece++) {
      expect(() => scanNdjsonBytes(bytesOf(text), piece)).toThrow(
        /^line 5 is not JSON/,
      );
    }
    expect(() => scanNdjsonBytes(bytesOf('1\n[2,\n3]\n'), 3)).toThrow(
      /^line 2 is not JSON/,
    );
  });

  test('any lines give what the whole text gives', () => {
    fc.assert(
      fc.property(
        fc.array(fc.jsonValue(), { maxLength: 30 }),
        fc.integer({ min: 1, max: 64 }),
        (values, piece) => {
          const bytes = bytesOf(
            values.map((v) => JSON.stringify(v)).join('\n'),
          );
          expect(scanNdjsonBytes(bytes, piece)).toEqual(
            scanNdjsonInputs(bodyText(bytes)),
          );
        },
      ),
      { numRuns: 200 },
    );
  });
});

describe('bodies of real sizes', () => {
  /** Records of about `bytes` bytes in all, built in one pass (sizes summed as made). */
  function records(bytes: number): string[] {
    const values: string[] = [];
    let total = 0;
    for (let i = 0; total < bytes; i++) {
      const value = JSON.stringify({
        id: `task-${i}`,
        text: 'é€😀 "]}'.repeat(1 + (i % 9)),
      });
      values.push(value);
      total += Buffer.byteLength(value) + 1;
    }
    return values;
  }

  /**
   * Same inputs, compared as one text (no stored input holds a line feed, so equal
   * counts and equal joined texts mean equal inputs, one by one): a deep equality of
   * ten thousand strings is slow enough to time out on a loaded machine.
   */
  const sameInputs = (got: unknown[] | undefined, want: string[]): void => {
    expect(got?.length).toBe(want.length);
    expect(got?.join('\n')).toBe(want.join('\n'));
  };

  test('a body under WHOLE_BYTES is cut in pieces of PIECE_BYTES; one over it is read whole', () => {
    for (const size of [PIECE_BYTES * 5, WHOLE_BYTES + PIECE_BYTES]) {
      const values = records(size);
      sameInputs(scanNdjsonBytes(bytesOf(values.join('\n'))), values);
      const submit = bytesOf(`{"name":"n","inputs":[${values.join(',')}]}`);
      const scanned = scanSubmitBytes(submit);
      expect(scanned.body).toEqual({ name: 'n' });
      sameInputs(scanned.inputs, values);
      sameInputs(piecewiseSubmit(submit, PIECE_BYTES)?.inputs, values);
    }
  });
});
