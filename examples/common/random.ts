/**
 * A small seeded PRNG for the examples' datasets. Pure integer arithmetic (Math.imul,
 * shifts), so the same seed gives the same numbers in Node and in every browser: a
 * worker that generates a chunk of data generates exactly the chunk the single-process
 * check generates.
 */

/** Mixes integers into one 32-bit seed (murmur3's finalizer over each part). */
export function mixSeed(...parts: readonly number[]): number {
  let h = 0x9e3779b9;
  for (const part of parts) {
    h = Math.imul(h ^ (part >>> 0), 0x85ebca6b);
    h ^= h >>> 13;
    h = Math.imul(h, 0xc2b2ae35);
    h ^= h >>> 16;
  }
  return h >>> 0;
}

/** mulberry32: 32 bits of state, period 2^32, good enough for synthetic data. */
export class Random {
  #state: number;

  constructor(seed: number) {
    this.#state = seed >>> 0;
  }

  /** A uniform 32-bit unsigned integer. */
  nextU32(): number {
    this.#state = (this.#state + 0x6d2b79f5) >>> 0;
    let t = this.#state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  }

  /** Uniform in [0, 1); exact (a 32-bit integer over 2^32). */
  next(): number {
    return this.nextU32() / 4_294_967_296;
  }

  /** Uniform integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  /** Uniform in [lo, hi). */
  range(lo: number, hi: number): number {
    return lo + (hi - lo) * this.next();
  }

  /**
   * Approximately standard normal: the Irwin-Hall sum of 12 uniforms minus 6. Only
   * additions, so it is bit-identical everywhere (Math.log/cos may differ by an ulp
   * between JavaScript engines; a Box-Muller normal would not be).
   */
  normal(): number {
    let sum = 0;
    for (let i = 0; i < 12; i++) sum += this.next();
    return sum - 6;
  }
}
