import { describe, expect, test } from 'vitest';
import fc from 'fast-check';
import {
  holdsBytes,
  reviveBase64,
  toJsonText,
} from '../../../server/base64-json.js';

describe('bytes in JSON over HTTP', () => {
  test('holdsBytes finds a Uint8Array at any depth, in arrays and objects', () => {
    expect(holdsBytes([1, 'a', null, { b: [true] }])).toBe(false);
    expect(holdsBytes(new Uint8Array(1))).toBe(true);
    expect(holdsBytes([0, { a: [{ b: new Uint8Array(2) }] }])).toBe(true);
    // Deeper than any recursion limit.
    let deep: unknown = new Uint8Array(1);
    for (let i = 0; i < 10_000; i++) deep = [deep];
    expect(holdsBytes(deep)).toBe(true);
  });

  test('toJsonText writes bytes as $base64 and everything else as JSON.stringify does', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        expect(toJsonText(value)).toBe(JSON.stringify(value));
      }),
    );
    const bytes = new Uint8Array([0, 1, 254, 255]);
    const text = toJsonText({ inputs: [1, bytes, { deep: [bytes] }] });
    expect(JSON.parse(text)).toEqual({
      inputs: [1, { $base64: 'AAH+/w==' }, { deep: [{ $base64: 'AAH+/w==' }] }],
    });
    expect(reviveBase64(JSON.parse(text))).toEqual({
      inputs: [1, bytes, { deep: [bytes] }],
    });
  });
});
