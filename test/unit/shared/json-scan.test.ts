import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import {
  JsonScanner,
  objectMembers,
  scanJson,
  sliceArray,
} from '../../../shared/json-scan.js';

/** Nesting depth of arrays and objects (a scalar is 0). */
function depthOf(value: unknown): number {
  if (value === null || typeof value !== 'object') return 0;
  const children = Object.values(value as Record<string, unknown>);
  return 1 + Math.max(0, ...children.map(depthOf));
}

function hasBase64Key(value: unknown): boolean {
  if (value === null || typeof value !== 'object') return false;
  if (!Array.isArray(value) && Object.hasOwn(value, '$base64')) return true;
  return Object.values(value as Record<string, unknown>).some(hasBase64Key);
}

/** What JSON.parse says of `text`, with the scanner's depth limit applied. */
function parseVerdict(text: string, maxDepth: number) {
  try {
    const value: unknown = JSON.parse(text);
    if (depthOf(value) > maxDepth) return { ok: false as const };
    return { ok: true as const, base64: hasBase64Key(value) };
  } catch {
    return { ok: false as const };
  }
}

// Values that contain `$base64` keys (sometimes escaped) and the awkward corners.
const key = fc.oneof(
  fc.string(),
  fc.constantFrom('$base64', '__proto__', 'constructor', '$bin', ''),
);
const jsonValue = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', maxDepth: 5 },
    fc.constant(null),
    fc.boolean(),
    fc.double({ noNaN: true, noDefaultInfinity: true }),
    fc.integer(),
    fc.string({ unit: 'binary' }),
    fc.array(tie('value'), { maxLength: 4 }),
    fc.dictionary(key, tie('value'), { maxKeys: 4 }),
  ),
})).value;

/** Text of a value, compact, pretty, or with escaped keys. */
const jsonText = fc
  .tuple(jsonValue, fc.constantFrom(0, 1, 2))
  .map(([value, style]) => {
    if (style === 1) return JSON.stringify(value, null, '\t');
    const text = JSON.stringify(value);
    return style === 2 ? text.replaceAll('"$base64"', '"\\u0024base64"') : text;
  });

/** Valid JSON with one character deleted, inserted or replaced. */
const mutated = fc
  .tuple(
    jsonText,
    fc.nat(),
    fc.constantFrom(...'{}[]",:\\ \n-+.eE0123456789tfnrul\u0001abx'.split('')),
    fc.constantFrom('delete', 'insert', 'replace'),
  )
  .map(([text, at, char, how]) => {
    const i = text.length === 0 ? 0 : at % text.length;
    if (how === 'delete') return text.slice(0, i) + text.slice(i + 1);
    if (how === 'insert') return text.slice(0, i) + char + text.slice(i);
    return text.slice(0, i) + char + text.slice(i + 1);
  });

describe('scanJson agrees with JSON.parse', () => {
  test('on valid texts, compact or not: accepted, same $base64 verdict', () => {
    fc.assert(
      fc.property(jsonText, (text) => {
        const scanned = scanJson(text);
        expect(scanned).toMatchObject(parseVerdict(text, 256));
      }),
      { numRuns: 2_000 },
    );
  });

  test('on mutated texts: accepts exactly what JSON.parse accepts', () => {
    fc.assert(
      fc.property(mutated, (text) => {
        const verdict = parseVerdict(text, 256);
        const scanned = scanJson(text);
        expect(scanned.ok).toBe(verdict.ok);
        if (scanned.ok && verdict.ok)
          expect(scanned.base64).toBe(verdict.base64);
      }),
      { numRuns: 10_000 },
    );
  });

  test('on long strings with escapes, quotes and control characters anywhere', () => {
    // Past a few characters a string is skipped in runs: each kind of stop must agree.
    const body = fc.string({
      unit: fc.constantFrom(
        ...['a', 'é', '\ud800', '"', '\\', '\\n', '\\u00e9', '\\u12', '\\q'],
        ...['\u0001', '\u001f', '\n', ' ', '\\"'],
      ),
      maxLength: 60,
    });
    fc.assert(
      fc.property(body, fc.nat(40), (inner, pad) => {
        const t = `"${'x'.repeat(pad)}${inner}"`;
        expect(scanJson(t).ok).toBe(parseVerdict(t, 256).ok);
        expect(scanJson(`[${t},1]`).ok).toBe(parseVerdict(`[${t},1]`, 256).ok);
      }),
      { numRuns: 10_000 },
    );
  });

  test('on arbitrary short strings of JSON characters', () => {
    const text = fc.string({
      unit: fc.constantFrom(...'{}[]",: 0-1.eE+tfnrulsa\\u'.split('')),
      maxLength: 12,
    });
    fc.assert(
      fc.property(text, (t) => {
        expect(scanJson(t).ok).toBe(parseVerdict(t, 256).ok);
      }),
      { numRuns: 10_000 },
    );
  });

  test('with one scanner reused: flat and nested values side by side, in any order', () => {
    // Flat records take a regular expression, and a failed one makes the next values
    // of that depth skip it: whichever way a value goes, the verdict is JSON.parse's.
    const flatish = fc.oneof(
      fc.dictionary(
        fc.oneof(fc.string(), fc.constant('$base64')),
        fc.oneof(fc.string({ unit: 'binary' }), fc.integer(), fc.double()),
        { maxKeys: 4 },
      ),
      fc.array(fc.oneof(fc.integer(), fc.boolean(), fc.string()), {
        maxLength: 4,
      }),
      jsonValue,
    );
    const texts = fc.array(
      fc.oneof(
        flatish.map((value) => JSON.stringify(value)),
        jsonText,
        mutated,
      ),
      { maxLength: 40 },
    );
    fc.assert(
      fc.property(texts, fc.constantFrom(1, 2, 256), (list, maxDepth) => {
        const scanner = new JsonScanner(maxDepth);
        for (const text of list) {
          const verdict = parseVerdict(text, maxDepth);
          const scanned = scanJson(text, scanner);
          expect(scanned.ok, text).toBe(verdict.ok);
          if (scanned.ok && verdict.ok)
            expect(scanned.base64, text).toBe(verdict.base64);
        }
      }),
      { numRuns: 2_000 },
    );
  });

  test('within a depth limit: deeper values are refused', () => {
    fc.assert(
      fc.property(jsonText, (text) => {
        const scanned = scanJson(text, new JsonScanner(2));
        expect(scanned.ok).toBe(parseVerdict(text, 2).ok);
      }),
      { numRuns: 2_000 },
    );
  });
});

describe('scanJson facts', () => {
  test('compact text from JSON.stringify is not spaced; pretty text with members is', () => {
    expect(scanJson('{"a":[1,2,{"b":null}],"c":"x y"}')).toEqual({
      ok: true,
      base64: false,
      spaced: false,
    });
    expect(scanJson('{"a": 1}')).toMatchObject({ ok: true, spaced: true });
    expect(scanJson('[1 ,2]')).toMatchObject({ ok: true, spaced: true });
    expect(scanJson(' 1')).toMatchObject({ ok: true, spaced: true });
  });

  test('finds $base64 keys, escaped too, but not $base64 strings', () => {
    expect(scanJson('{"$base64":"AAE="}')).toMatchObject({ base64: true });
    expect(scanJson('[{"x":{"\\u0024base64":""}}]')).toMatchObject({
      base64: true,
    });
    expect(scanJson('["$base64"]')).toMatchObject({ base64: false });
    expect(scanJson('{"$base6":1,"x":"$base64"}')).toMatchObject({
      base64: false,
    });
  });

  test('refuses what JSON.parse refuses, with a reason', () => {
    for (const bad of [
      '',
      '01',
      '1.',
      '.5',
      '-',
      '1e',
      '+1',
      '[1,]',
      '{"a":1,}',
      '{a:1}',
      "'x'",
      '"\u0001"',
      '"\\x"',
      '"\\u12G4"',
      'tru',
      'nul',
      '[1] [2]',
      '"open',
      'NaN',
    ]) {
      const scanned = scanJson(bad);
      expect(scanned.ok, bad).toBe(false);
      if (!scanned.ok) expect(scanned.error.length).toBeGreaterThan(0);
      // Inside a flat array or object, as a record's member would be.
      if (bad === '' || bad === '[1] [2]') continue;
      for (const inside of [`[${bad}]`, `{"k":${bad}}`, `{"k":1,"j":${bad}}`])
        expect(scanJson(inside).ok, inside).toBe(false);
    }
  });

  test('a depth past the limit is refused without overflowing the stack', () => {
    const deep = `${'['.repeat(100_000)}${']'.repeat(100_000)}`;
    expect(scanJson(deep)).toEqual({ ok: false, error: 'nested too deeply' });
    expect(scanJson(`${'['.repeat(256)}${']'.repeat(256)}`).ok).toBe(true);
    expect(scanJson(`${'['.repeat(257)}${']'.repeat(257)}`).ok).toBe(false);
    // A flat object or array innermost counts as one level too.
    const around = (n: number, inner: string) =>
      `${'['.repeat(n)}${inner}${']'.repeat(n)}`;
    expect(scanJson(around(255, '{"a":1}')).ok).toBe(true);
    expect(scanJson(around(256, '{"a":1}')).ok).toBe(false);
    expect(scanJson(around(255, '[1,"x"]')).ok).toBe(true);
    expect(scanJson(around(256, '[1,"x"]')).ok).toBe(false);
    expect(scanJson('{"a":1}', new JsonScanner(1)).ok).toBe(true);
    expect(scanJson('[{"a":1}]', new JsonScanner(1)).ok).toBe(false);
  });
});

describe('slicing', () => {
  test('sliceArray gives each element as its text, with its own facts', () => {
    fc.assert(
      fc.property(fc.array(jsonValue, { maxLength: 6 }), (values) => {
        const text = JSON.stringify(values);
        const scanner = new JsonScanner();
        scanner.reset(text);
        const { elements, end } = sliceArray(scanner, 0);
        expect(end).toBe(text.length);
        expect(elements.map((e) => e.text)).toEqual(
          values.map((v) => JSON.stringify(v)),
        );
        expect(elements.map((e) => e.base64)).toEqual(values.map(hasBase64Key));
      }),
    );
  });

  test('objectMembers lists keys and value spans, last duplicate kept by callers', () => {
    const text = ' {"a" : [1, 2], "b":{"c":"}"} , "a":3 } ';
    const scanner = new JsonScanner();
    scanner.reset(text);
    const members = objectMembers(scanner).map(({ key, start, end }) => [
      key,
      text.slice(start, end),
    ]);
    expect(members).toEqual([
      ['a', '[1, 2]'],
      ['b', '{"c":"}"}'],
      ['a', '3'],
    ]);
    scanner.reset('[1]');
    expect(() => objectMembers(scanner)).toThrow(/object/);
    scanner.reset('{"a":1} x');
    expect(() => objectMembers(scanner)).toThrow(/after JSON/);
  });
});

describe('flat values of any length', () => {
  // Big on purpose (seconds on a loaded machine): the time limit is generous.
  test(
    'a flat array of 4 million numbers and an object of 300,000 members are accepted',
    { timeout: 60_000 },
    () => {
      // An unbounded regex repetition overflowed the engine's stack on such arrays.
      const numbers = JSON.stringify(
        Array.from({ length: 4_000_000 }, (_, i) => i),
      );
      expect(scanJson(numbers)).toEqual({
        ok: true,
        base64: false,
        spaced: false,
      });
      const members = JSON.stringify(
        Object.fromEntries(
          Array.from({ length: 300_000 }, (_, i) => [`k${i}`, `v${i}`]),
        ),
      );
      expect(scanJson(members)).toEqual({
        ok: true,
        base64: false,
        spaced: false,
      });
      expect(scanJson(`${numbers.slice(0, -1)},]`).ok).toBe(false);
    },
  );
});
