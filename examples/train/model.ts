/**
 * Softmax regression on 28x28 images, in plain TypeScript: ten rows of 784 weights and a
 * bias. `gradient` is what a train task computes on its shard; `Adam` is the update
 * the client applies to the averaged gradient; `predict` is what a classify task runs.
 *
 * Weights are a Float32Array `[class][pixel..., bias]`; they travel as its bytes.
 */
import { CLASS_COUNT, PIXELS, type ImageSet } from './shapes.js';

/** Weights per class: one per pixel, then the bias. */
export const ROW = PIXELS + 1;
export const PARAM_COUNT = CLASS_COUNT * ROW;

/** Pixel byte -> input value in [0, 1]. */
const SCALE = Float64Array.from({ length: 256 }, (_, i) => i / 255);

export function zeroWeights(): Float32Array {
  return new Float32Array(PARAM_COUNT);
}

/** Image `i` of `pixels` as inputs in [0, 1], into `x` (length PIXELS). */
function inputsOf(pixels: Uint8Array, i: number, x: Float64Array): void {
  const base = i * PIXELS;
  for (let f = 0; f < PIXELS; f++)
    x[f] = SCALE[pixels[base + f] as number] as number;
}

/** The logits of inputs `x` into `out` (length CLASS_COUNT). */
function logits(
  weights: Float32Array,
  x: Float64Array,
  out: Float64Array,
): void {
  for (let c = 0; c < CLASS_COUNT; c++) {
    const row = c * ROW;
    let z = weights[row + PIXELS] as number;
    for (let f = 0; f < PIXELS; f++) {
      z += (weights[row + f] as number) * (x[f] as number);
    }
    out[c] = z;
  }
}

function argmax(values: Float64Array): number {
  let best = 0;
  for (let c = 1; c < values.length; c++)
    if ((values[c] as number) > (values[best] as number)) best = c;
  return best;
}

/** What a train task returns for its shard (sums, not means: the client divides). */
export interface GradientSum {
  /** d(sum of losses)/d(weights), PARAM_COUNT values. */
  grad: Float64Array;
  /** Sum of cross-entropy losses. */
  loss: number;
  /** Images classified right by the current weights. */
  correct: number;
  count: number;
}

/** The gradient of the summed cross-entropy loss over `set` at `weights`. */
export function gradient(weights: Float32Array, set: ImageSet): GradientSum {
  const grad = new Float64Array(PARAM_COUNT);
  const z = new Float64Array(CLASS_COUNT);
  const x = new Float64Array(PIXELS);
  let loss = 0;
  let correct = 0;
  for (let i = 0; i < set.count; i++) {
    inputsOf(set.pixels, i, x);
    logits(weights, x, z);
    const label = set.labels[i] as number;
    const top = argmax(z);
    if (top === label) correct++;
    const max = z[top] as number;
    let total = 0;
    for (let c = 0; c < CLASS_COUNT; c++) {
      const e = Math.exp((z[c] as number) - max);
      z[c] = e;
      total += e;
    }
    loss -= Math.log((z[label] as number) / total);
    for (let c = 0; c < CLASS_COUNT; c++) {
      // d loss / d logit c = p_c - [c = label]
      const delta = (z[c] as number) / total - (c === label ? 1 : 0);
      const row = c * ROW;
      for (let f = 0; f < PIXELS; f++) {
        grad[row + f] = (grad[row + f] as number) + delta * (x[f] as number);
      }
      grad[row + PIXELS] = (grad[row + PIXELS] as number) + delta;
    }
  }
  return { grad, loss, correct, count: set.count };
}

/** The predicted class of each of `count` images. Exact: no exp, only the argmax of logits. */
export function predict(
  weights: Float32Array,
  pixels: Uint8Array,
  count: number,
): Uint8Array {
  const z = new Float64Array(CLASS_COUNT);
  const x = new Float64Array(PIXELS);
  const out = new Uint8Array(count);
  for (let i = 0; i < count; i++) {
    inputsOf(pixels, i, x);
    logits(weights, x, z);
    out[i] = argmax(z);
  }
  return out;
}

/** Fraction of `set` that `weights` classify right. */
export function accuracy(weights: Float32Array, set: ImageSet): number {
  const predicted = predict(weights, set.pixels, set.count);
  let right = 0;
  for (let i = 0; i < set.count; i++)
    if (predicted[i] === set.labels[i]) right++;
  return set.count > 0 ? right / set.count : NaN;
}

/**
 * Adam (Kingma & Ba) on the mean gradient, with L2 weight decay. Its state is float64;
 * the weights stay Float32 (what travels to the workers).
 */
export class Adam {
  readonly learningRate: number;
  readonly decay: number;
  #m = new Float64Array(PARAM_COUNT);
  #v = new Float64Array(PARAM_COUNT);
  #t = 0;

  constructor(options: { learningRate?: number; decay?: number } = {}) {
    this.learningRate = options.learningRate ?? 0.02;
    this.decay = options.decay ?? 1e-4;
  }

  /** Updates `weights` in place from a summed gradient over `count` examples. */
  step(weights: Float32Array, gradSum: Float64Array, count: number): void {
    const beta1 = 0.9;
    const beta2 = 0.999;
    this.#t++;
    const correction1 = 1 - beta1 ** this.#t;
    const correction2 = 1 - beta2 ** this.#t;
    for (let k = 0; k < PARAM_COUNT; k++) {
      const w = weights[k] as number;
      const g = (gradSum[k] as number) / count + this.decay * w;
      const m = beta1 * (this.#m[k] as number) + (1 - beta1) * g;
      const v = beta2 * (this.#v[k] as number) + (1 - beta2) * g * g;
      this.#m[k] = m;
      this.#v[k] = v;
      weights[k] =
        w -
        (this.learningRate * (m / correction1)) /
          (Math.sqrt(v / correction2) + 1e-8);
    }
  }
}

/** The bytes of a typed array (a view, no copy). */
export function bytesOf(array: Float32Array | Float64Array): Uint8Array {
  return new Uint8Array(array.buffer, array.byteOffset, array.byteLength);
}

/** Float32 values from bytes (copied when the bytes are not 4-aligned). */
export function float32From(bytes: Uint8Array): Float32Array {
  if (bytes.byteLength % 4 !== 0)
    throw new RangeError(`${bytes.byteLength} bytes are not Float32 values`);
  const aligned = bytes.byteOffset % 4 === 0 ? bytes : bytes.slice();
  return new Float32Array(
    aligned.buffer,
    aligned.byteOffset,
    aligned.byteLength / 4,
  );
}

/** Float64 values from bytes (copied when the bytes are not 8-aligned). */
export function float64From(bytes: Uint8Array): Float64Array {
  if (bytes.byteLength % 8 !== 0)
    throw new RangeError(`${bytes.byteLength} bytes are not Float64 values`);
  const aligned = bytes.byteOffset % 8 === 0 ? bytes : bytes.slice();
  return new Float64Array(
    aligned.buffer,
    aligned.byteOffset,
    aligned.byteLength / 8,
  );
}

const MAGIC = 0x57594c43; // "CLYW" little-endian

/** A weights file: magic, classes, pixels (u32 LE each), then the Float32 weights. */
export function encodeWeightsFile(weights: Float32Array): Uint8Array {
  const out = new Uint8Array(12 + weights.byteLength);
  const view = new DataView(out.buffer);
  view.setUint32(0, MAGIC, true);
  view.setUint32(4, CLASS_COUNT, true);
  view.setUint32(8, PIXELS, true);
  out.set(bytesOf(weights), 12);
  return out;
}

export function decodeWeightsFile(bytes: Uint8Array): Float32Array {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (
    bytes.byteLength !== 12 + PARAM_COUNT * 4 ||
    view.getUint32(0, true) !== MAGIC ||
    view.getUint32(4, true) !== CLASS_COUNT ||
    view.getUint32(8, true) !== PIXELS
  ) {
    throw new Error(
      `not a weights file of ${CLASS_COUNT} classes x ${PIXELS} pixels`,
    );
  }
  return float32From(bytes.slice(12));
}
