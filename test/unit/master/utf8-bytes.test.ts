import fc from 'fast-check';
import { expect, test } from 'vitest';
import { Utf8Bytes } from '../../../server/master/utf8-bytes.js';

test('the bytes are the UTF-8 of the texts put, in order, short or long, from any start size', () => {
  const text = fc.oneof(
    fc.string({ unit: 'grapheme', maxLength: 40 }),
    fc.constant('x'.repeat(8_200)),
    // Three of these fill a run.
    fc.constant('é'.repeat(3_000)),
    fc.constant('中'.repeat(9_000)),
  );
  fc.assert(
    fc.property(
      fc.array(text, { maxLength: 40 }),
      fc.nat(100_000),
      (texts, capacity) => {
        const out = new Utf8Bytes(capacity);
        for (const t of texts) out.put(t);
        expect(out.bytes().equals(Buffer.from(texts.join(''), 'utf8'))).toBe(
          true,
        );
      },
    ),
    { numRuns: 100 },
  );
});

test('bytes() can be read midway and writing goes on after it', () => {
  const out = new Utf8Bytes(4);
  out.put('ab');
  expect(out.bytes().toString()).toBe('ab');
  out.put('✓');
  expect(out.bytes().toString()).toBe('ab✓');
});
