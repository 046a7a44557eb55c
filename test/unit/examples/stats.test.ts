import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import {
  CITIES,
  generateChunk,
  MAX_CENTS,
} from '../../../examples/stats/data.js';
import {
  DEFAULT_ALPHA,
  QuantileSketch,
} from '../../../examples/stats/sketch.js';
import {
  accumulate,
  finalize,
  GroupAccumulator,
  newAccumulators,
} from '../../../examples/stats/summary.js';
import statsTask from '../../../examples/stats/task.js';

/** The value of rank floor(q (n - 1)): what the sketch promises to approximate. */
function exactQuantile(sorted: readonly number[], q: number): number {
  return sorted[Math.floor(q * (sorted.length - 1))] as number;
}

describe('stats dataset', () => {
  test('the same seed and chunk give the same rows; another chunk others', () => {
    const a = generateChunk(1, 3, 5_000);
    const b = generateChunk(1, 3, 5_000);
    const c = generateChunk(1, 4, 5_000);
    expect(a.group).toEqual(b.group);
    expect(a.cents).toEqual(b.cents);
    expect(a.cents).not.toEqual(c.cents);
  });

  test('rows are whole cents within bounds, every city present', () => {
    const { group, cents } = generateChunk(9, 0, 20_000);
    expect(new Set(group).size).toBe(CITIES.length);
    const bad = cents.filter(
      (value) => !Number.isInteger(value) || value <= 0 || value > MAX_CENTS,
    );
    expect(bad.length).toBe(0);
  });
});

describe('quantile sketch', () => {
  test('every quantile is within alpha of the exact sorted value', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 1, max: 1_000_000 }), {
          minLength: 1,
          maxLength: 2_000,
        }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        (values, q) => {
          const sketch = new QuantileSketch();
          for (const value of values) sketch.add(value);
          const exact = exactQuantile(
            values.slice().sort((x, y) => x - y),
            q,
          );
          const estimate = sketch.quantile(q);
          expect(Math.abs(estimate - exact)).toBeLessThanOrEqual(
            DEFAULT_ALPHA * exact * (1 + 1e-9),
          );
        },
      ),
      { numRuns: 200 },
    );
  });

  test('merging parts, in any order, gives the sketch of the whole', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.array(
            fc.oneof(
              fc.constant(0),
              fc.double({ min: 0.01, max: 1e6, noNaN: true }),
            ),
            { maxLength: 300 },
          ),
          { minLength: 1, maxLength: 8 },
        ),
        (parts) => {
          const whole = new QuantileSketch();
          for (const value of parts.flat()) whole.add(value);
          const merged = new QuantileSketch();
          for (const part of parts.slice().reverse()) {
            const sketch = new QuantileSketch();
            for (const value of part) sketch.add(value);
            // Through JSON, as outputs travel.
            merged.merge(JSON.parse(JSON.stringify(sketch)));
          }
          expect(merged.toJSON()).toEqual(whole.toJSON());
          expect(merged.count).toBe(whole.count);
        },
      ),
      { numRuns: 100 },
    );
  });

  test('zeros, empty sketches and bad input', () => {
    const sketch = new QuantileSketch();
    expect(sketch.quantile(0.5)).toBeNaN();
    sketch.add(0, 3);
    sketch.add(10);
    expect(sketch.quantile(0)).toBe(0);
    expect(sketch.quantile(1)).toBeCloseTo(10, 0);
    expect(() => sketch.add(-1)).toThrow(RangeError);
    expect(() => sketch.merge(new QuantileSketch(0.05))).toThrow(RangeError);
    expect(() => new QuantileSketch(0)).toThrow(RangeError);
  });
});

describe('group summaries', () => {
  test('merged chunk summaries equal one pass over all rows', () => {
    const chunks = [0, 1, 2, 3].map((chunk) => generateChunk(5, chunk, 3_000));
    const single = newAccumulators();
    for (const rows of chunks) accumulate(single, rows);
    const merged = newAccumulators();
    for (const rows of chunks.reverse()) {
      const part = newAccumulators();
      accumulate(part, rows);
      part.forEach((acc, g) =>
        (merged[g] as GroupAccumulator).merge(
          JSON.parse(JSON.stringify(acc.toJSON())),
        ),
      );
    }
    expect(merged.map((acc) => acc.toJSON())).toEqual(
      single.map((acc) => acc.toJSON()),
    );
    expect(merged.map(finalize)).toEqual(single.map(finalize));
  });

  test('the sum of squares is exact past 2^53, and the variance matches two passes', () => {
    const acc = new GroupAccumulator();
    const values: number[] = [];
    // 20,000 values near 2^20: their squares sum to ~2^54.
    for (let i = 0; i < 20_000; i++) {
      const value = 1_000_000 - (i % 1_000);
      values.push(value);
      acc.add(value);
    }
    const exact = values.reduce((sum, v) => sum + BigInt(v) * BigInt(v), 0n);
    expect(acc.sumSq).toBe(exact);
    const mean = values.reduce((a, b) => a + b, 0) / values.length;
    const twoPass =
      values.reduce((sum, v) => sum + (v - mean) ** 2, 0) / (values.length - 1);
    const stats = finalize(acc);
    expect(stats.mean).toBe(mean);
    expect(stats.variance / twoPass).toBeCloseTo(1, 12);
    expect(stats.min).toBe(999_001);
    expect(stats.max).toBe(1_000_000);
  });

  test('the task summarizes its chunk as the driver would', () => {
    const output = statsTask({ seed: 3, chunk: 2, rows: 2_000 });
    const expected = newAccumulators();
    accumulate(expected, generateChunk(3, 2, 2_000));
    expect(output.groups).toEqual(expected.map((acc) => acc.toJSON()));
    expect(output.groups.reduce((n, g) => n + g.count, 0)).toBe(2_000);
    expect(output.ms).toBeGreaterThanOrEqual(0);
  });
});
