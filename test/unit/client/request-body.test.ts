import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { toJsonText } from '../../../server/base64-json.js';
import {
  jsonBodyWithInputs,
  ndjsonBody,
} from '../../../server/client/request-body.js';

/** The body's text, its buffer given back. */
const textOf = (body: { bytes: Buffer; release(): void }): string => {
  const text = body.bytes.toString('utf8');
  body.release();
  return text;
};

const bytes = new Uint8Array([0, 1, 254, 255]);

describe('request bodies written in pieces', () => {
  test('a submit body is the text toJsonText writes for the whole object', () => {
    fc.assert(
      fc.property(
        fc.array(fc.jsonValue(), { maxLength: 700 }),
        fc.boolean(),
        (inputs, withTail) => {
          const head = { name: 'n', module: 'export default (x) => x;' };
          const tail = withTail
            ? { options: { timeoutMs: 5 }, sealed: false }
            : {};
          expect(textOf(jsonBodyWithInputs(head, inputs, tail))).toBe(
            toJsonText({ ...head, inputs, ...tail }),
          );
        },
      ),
      { numRuns: 60 },
    );
  });

  test('an append body is one toJsonText line per input', () => {
    fc.assert(
      fc.property(fc.array(fc.jsonValue(), { maxLength: 700 }), (inputs) => {
        expect(textOf(ndjsonBody(inputs))).toBe(
          inputs.map((input) => toJsonText(input)).join('\n'),
        );
      }),
      { numRuns: 60 },
    );
  });

  test('an append body of records is one JSON.stringify line per record', () => {
    // Objects only (the path that splits one text of the whole piece), with texts and
    // nested objects that hold the separator '},{' of their own.
    const tricky = fc.constantFrom('},{', '{"a":1},{"b":2}', '}\n{', ',');
    const record = fc.dictionary(
      fc.string(),
      fc.oneof(fc.jsonValue(), tricky, fc.array(fc.object(), { maxLength: 3 })),
      { maxKeys: 4 },
    );
    fc.assert(
      fc.property(fc.array(record, { maxLength: 600 }), (inputs) => {
        expect(textOf(ndjsonBody(inputs))).toBe(
          inputs.map((input) => JSON.stringify(input)).join('\n'),
        );
      }),
      { numRuns: 60 },
    );
    const plain = Array.from({ length: 300 }, (_, i) => ({
      id: `r-${i}`,
      x: i,
    }));
    const withToJson = [...plain, { toJSON: () => 5 }, Object.create(null)];
    for (const inputs of [plain, withToJson])
      expect(textOf(ndjsonBody(inputs))).toBe(
        inputs.map((input) => JSON.stringify(input)).join('\n'),
      );
  });

  test('bytes in any piece are written as $base64, as toJsonText writes them', () => {
    const inputs: unknown[] = Array.from({ length: 600 }, (_, i) => ({ i }));
    inputs[3] = bytes;
    inputs[300] = { deep: [Buffer.from(bytes)] };
    inputs[599] = { empty: new Uint8Array(0) };
    const head = { name: 'n', module: 'm' };
    expect(textOf(jsonBodyWithInputs(head, inputs, {}))).toBe(
      toJsonText({ ...head, inputs }),
    );
    const lines = textOf(ndjsonBody(inputs)).split('\n');
    expect(lines[3]).toBe('{"$base64":"AAH+/w=="}');
    expect(lines[300]).toBe('{"deep":[{"$base64":"AAH+/w=="}]}');
    expect(lines[599]).toBe('{"empty":{"$base64":""}}');
    // Texts that look like bytes but hold none stay as JSON.stringify writes them.
    const lookalikes = [{}, { 0: 1 }, { type: 'Buffer', data: [1] }];
    expect(textOf(ndjsonBody(lookalikes))).toBe(
      lookalikes.map((v) => JSON.stringify(v)).join('\n'),
    );
  });

  test('non-ASCII text is written as UTF-8', () => {
    const inputs = ['é', { k: '日本語 🐝' }, 'x'.repeat(100_000)];
    const body = jsonBodyWithInputs({ name: 'ü', module: 'm' }, inputs, {});
    expect(JSON.parse(textOf(body))).toEqual({
      name: 'ü',
      module: 'm',
      inputs,
    });
  });

  test('a body built while another is lent gets a buffer of its own', () => {
    const first = ndjsonBody([1, 2, 3]);
    const second = ndjsonBody([4, 5, 6]);
    expect(second.bytes.buffer).not.toBe(first.bytes.buffer);
    expect(first.bytes.toString()).toBe('1\n2\n3');
    expect(second.bytes.toString()).toBe('4\n5\n6');
    first.release();
    second.release();
    // Given back: the next body reuses the first one's buffer.
    const third = ndjsonBody([7]);
    expect(third.bytes.buffer).toBe(first.bytes.buffer);
    third.release();
  });
});
