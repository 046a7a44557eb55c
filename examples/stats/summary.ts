/**
 * Per-group statistics that merge exactly: count, sum and sum of squares of whole
 * cents (the sum of squares as a BigInt, so nothing rounds however many rows), min, max
 * and a quantile sketch. A worker summarizes its chunk; the client merges the chunks'
 * summaries; the result equals the summary of all rows taken in one pass.
 */
import { GROUP_COUNT, type Rows } from './data.js';
import { DEFAULT_ALPHA, QuantileSketch, type SketchData } from './sketch.js';

/** One group's summary as it travels (JSON). */
export interface GroupSummary {
  count: number;
  sum: number;
  /** Decimal digits of a BigInt. */
  sumSq: string;
  min: number;
  max: number;
  sketch: SketchData;
}

/** A stats task's output. */
export interface ChunkSummary {
  groups: GroupSummary[];
  /** Compute time in the worker. */
  ms: number;
}

/** Squares below 2^40, so 4096 of them add up exactly (below 2^52) before a flush. */
const FLUSH_EVERY = 4_096;

export class GroupAccumulator {
  count = 0;
  sum = 0;
  min = Infinity;
  max = -Infinity;
  readonly sketch: QuantileSketch;
  #sumSq = 0n;
  #pendingSq = 0;
  #pending = 0;

  constructor(alpha = DEFAULT_ALPHA) {
    this.sketch = new QuantileSketch(alpha);
  }

  /** Adds one whole, non-negative value below 2^20. */
  add(value: number): void {
    this.count++;
    this.sum += value;
    if (value < this.min) this.min = value;
    if (value > this.max) this.max = value;
    this.#pendingSq += value * value;
    if (++this.#pending === FLUSH_EVERY) this.#flush();
    this.sketch.add(value);
  }

  #flush(): void {
    this.#sumSq += BigInt(this.#pendingSq);
    this.#pendingSq = 0;
    this.#pending = 0;
  }

  get sumSq(): bigint {
    this.#flush();
    return this.#sumSq;
  }

  merge(other: GroupSummary): void {
    if (other.count === 0) return;
    this.count += other.count;
    this.sum += other.sum;
    this.#flush();
    this.#sumSq += BigInt(other.sumSq);
    if (other.min < this.min) this.min = other.min;
    if (other.max > this.max) this.max = other.max;
    this.sketch.merge(other.sketch);
  }

  toJSON(): GroupSummary {
    return {
      count: this.count,
      sum: this.sum,
      sumSq: this.sumSq.toString(),
      min: this.min,
      max: this.max,
      sketch: this.sketch.toJSON(),
    };
  }
}

export function newAccumulators(alpha = DEFAULT_ALPHA): GroupAccumulator[] {
  return Array.from({ length: GROUP_COUNT }, () => new GroupAccumulator(alpha));
}

/** Adds a chunk of rows to per-group accumulators. */
export function accumulate(into: GroupAccumulator[], rows: Rows): void {
  const { group, cents } = rows;
  for (let i = 0; i < group.length; i++) {
    (into[group[i] as number] as GroupAccumulator).add(cents[i] as number);
  }
}

/** The quantiles every report shows. */
export const QUANTILES = [0.5, 0.9, 0.99] as const;

/** The answer for one group, in cents. */
export interface GroupStats {
  count: number;
  mean: number;
  /** Sample variance (n - 1 in the denominator). */
  variance: number;
  std: number;
  min: number;
  max: number;
  /** Sketch estimates of QUANTILES, in order. */
  quantiles: number[];
}

/**
 * Final statistics from exact totals: the variance is `(n S2 - S1^2) / (n (n - 1))`
 * with the numerator in BigInt, so it has one rounding, not a cancellation.
 */
export function finalize(acc: GroupAccumulator): GroupStats {
  const n = acc.count;
  const numerator = BigInt(n) * acc.sumSq - BigInt(acc.sum) ** 2n;
  const variance = n > 1 ? Number(numerator) / (n * (n - 1)) : 0;
  return {
    count: n,
    mean: n > 0 ? acc.sum / n : NaN,
    variance,
    std: Math.sqrt(variance),
    min: acc.min,
    max: acc.max,
    quantiles: QUANTILES.map((q) => acc.sketch.quantile(q)),
  };
}
