import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { JsonScanner, scanJson } from '../../../shared/json-scan.js';
import { JsonText, checkedText } from '../../../shared/json-text.js';

/** The scanner's verdict alone: one compact JSON value. */
const scannerTakes = (text: string): boolean => {
  const scan = scanJson(text, new JsonScanner());
  return scan.ok && !scan.spaced;
};

/** Flat records (members of primitives only), the shape checked without the scanner. */
const flatRecord = fc.dictionary(
  fc.string({ unit: 'binary', maxLength: 12 }),
  fc.oneof(
    fc.string({ unit: 'binary', maxLength: 20 }),
    fc.double({ noNaN: true, noDefaultInfinity: true }),
    fc.integer(),
    fc.boolean(),
    fc.constant(null),
  ),
  { maxKeys: 6 },
);

describe('checkedText', () => {
  test('takes every record JSON.stringify writes, as it is', () => {
    fc.assert(
      fc.property(flatRecord, (record) => {
        const text = JSON.stringify(record);
        const checked = checkedText(text);
        expect(checked).toBeInstanceOf(JsonText);
        expect(checked?.json).toBe(text);
      }),
    );
  });

  test('agrees with the scanner on records cut, spliced and spaced', () => {
    const edit = fc
      .tuple(flatRecord, fc.nat(), fc.nat(), fc.string({ maxLength: 4 }))
      .map(([record, a, b, insert]) => {
        const text = JSON.stringify(record);
        const from = a % (text.length + 1);
        const to = from + (b % (text.length - from + 1));
        return text.slice(0, from) + insert + text.slice(to);
      });
    fc.assert(
      fc.property(edit, (text) => {
        expect(checkedText(text) !== null).toBe(scannerTakes(text));
      }),
      { numRuns: 2_000 },
    );
  });

  test('refuses what would splice members of its own or break the frame', () => {
    for (const text of [
      '1],"credit":9,"leases":[7',
      '{"a":1},{"b":2}',
      '{"a":1}]',
      '{"a":"\u0001"}',
      '{"a":"\\x"}',
      '{"a":01}',
      '{"a":1.}',
      '{"a":-}',
      '{"a":tru}',
      '{"a": 1}',
      '{"a":1,}',
      '{"a"}',
      '',
    ])
      expect(checkedText(text), text).toBeNull();
  });

  test('nested and long texts still pass through the scanner', () => {
    const nested = JSON.stringify({ a: [1, { b: 'c' }], d: { e: null } });
    expect(checkedText(nested)?.json).toBe(nested);
    const long = JSON.stringify({ text: 'x'.repeat(10_000) });
    expect(checkedText(long)?.json).toBe(long);
    expect(checkedText(`${long.slice(0, -1)},}`)).toBeNull();
  });
});
