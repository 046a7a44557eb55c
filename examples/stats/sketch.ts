/**
 * A mergeable quantile sketch with a relative-error guarantee (DDSketch: Masson, Rim &
 * Lee, VLDB 2019). Values fall into logarithmic buckets `(gamma^(k-1), gamma^k]` with
 * `gamma = (1 + alpha) / (1 - alpha)`; a quantile is answered with the bucket's
 * midpoint `2 gamma^k / (gamma + 1)`, which is within `alpha * x` of the true value `x`.
 *
 * Merging adds bucket counts, so the merge of per-chunk sketches is the very sketch of
 * all rows, in any order: the distributed answer equals the single-process one, and both
 * are within `alpha` of the exact (sorted) quantile.
 *
 * Buckets are stored densely from the smallest to the largest seen, about
 * `ln(max / min) / (2 alpha)` of them: ~700 for whole cents up to 10^6 at 1 %.
 */

/** Default relative accuracy: 1 %. */
export const DEFAULT_ALPHA = 0.01;

/** A sketch as it travels (JSON): dense counts from bucket `offset` on. */
export interface SketchData {
  alpha: number;
  /** Values equal to 0. */
  zero: number;
  offset: number;
  counts: number[];
}

export class QuantileSketch {
  readonly alpha: number;
  readonly #gamma: number;
  readonly #logGamma: number;
  #zero = 0;
  #offset = 0;
  #counts: number[] = [];
  #total = 0;

  constructor(alpha: number = DEFAULT_ALPHA) {
    if (!(alpha > 0 && alpha < 1))
      throw new RangeError(`alpha must be in (0, 1), got ${alpha}`);
    this.alpha = alpha;
    this.#gamma = (1 + alpha) / (1 - alpha);
    this.#logGamma = Math.log(this.#gamma);
  }

  static from(data: SketchData): QuantileSketch {
    const sketch = new QuantileSketch(data.alpha);
    sketch.#zero = data.zero;
    sketch.#offset = data.offset;
    sketch.#counts = data.counts.slice();
    sketch.#total = data.zero + data.counts.reduce((a, b) => a + b, 0);
    return sketch;
  }

  get count(): number {
    return this.#total;
  }

  /** The bucket of a positive value. */
  bucketOf(value: number): number {
    return Math.ceil(Math.log(value) / this.#logGamma);
  }

  /** Adds a value >= 0 (fares, durations, sizes: this sketch keeps no negatives). */
  add(value: number, times = 1): void {
    if (!(value >= 0))
      throw new RangeError(`the sketch takes values >= 0, got ${value}`);
    this.#total += times;
    if (value === 0) {
      this.#zero += times;
      return;
    }
    this.#addToBucket(this.bucketOf(value), times);
  }

  #addToBucket(bucket: number, times: number): void {
    if (this.#counts.length === 0) {
      this.#offset = bucket;
      this.#counts.push(0);
    } else if (bucket < this.#offset) {
      const grow = this.#offset - bucket;
      this.#counts = new Array<number>(grow).fill(0).concat(this.#counts);
      this.#offset = bucket;
    } else if (bucket >= this.#offset + this.#counts.length) {
      const grow = bucket - this.#offset - this.#counts.length + 1;
      for (let i = 0; i < grow; i++) this.#counts.push(0);
    }
    this.#counts[bucket - this.#offset] =
      (this.#counts[bucket - this.#offset] as number) + times;
  }

  /** Adds another sketch's counts (same alpha). */
  merge(other: QuantileSketch | SketchData): void {
    const data = other instanceof QuantileSketch ? other.toJSON() : other;
    if (data.alpha !== this.alpha)
      throw new RangeError(
        `cannot merge sketches of alpha ${data.alpha} and ${this.alpha}`,
      );
    this.#zero += data.zero;
    this.#total += data.zero;
    data.counts.forEach((count, i) => {
      if (count > 0) {
        this.#addToBucket(data.offset + i, count);
        this.#total += count;
      }
    });
  }

  /**
   * The q-quantile (0 <= q <= 1): an estimate of the value of rank `floor(q (n - 1))`
   * in sorted order, within `alpha` relative error of it.
   */
  quantile(q: number): number {
    if (this.#total === 0) return NaN;
    const rank = Math.floor(Math.min(1, Math.max(0, q)) * (this.#total - 1));
    if (rank < this.#zero) return 0;
    let seen = this.#zero;
    for (let i = 0; i < this.#counts.length; i++) {
      seen += this.#counts[i] as number;
      if (seen > rank) {
        return (2 * this.#gamma ** (this.#offset + i)) / (this.#gamma + 1);
      }
    }
    return (
      (2 * this.#gamma ** (this.#offset + this.#counts.length - 1)) /
      (this.#gamma + 1)
    );
  }

  toJSON(): SketchData {
    // Trim empty buckets at both ends so equal contents serialize equally.
    let start = 0;
    let end = this.#counts.length;
    while (start < end && this.#counts[start] === 0) start++;
    while (end > start && this.#counts[end - 1] === 0) end--;
    return {
      alpha: this.alpha,
      zero: this.#zero,
      offset: start < end ? this.#offset + start : 0,
      counts: this.#counts.slice(start, end),
    };
  }
}
