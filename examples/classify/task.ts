/**
 * The classify task: predict the class of a batch of images with given weights. Images
 * arrive as bytes (count x 784, row by row), predictions go back as bytes. No Node
 * APIs: runs in browsers too.
 */
import { float32From, PARAM_COUNT, predict } from '../train/model.js';
import { PIXELS } from '../train/shapes.js';

export interface ClassifyInput {
  /** Float32Array bytes of the model. */
  weights: Uint8Array;
  /** `count * 784` grey bytes. */
  pixels: Uint8Array;
}

export default function classifyTask(input: ClassifyInput): Uint8Array {
  const weights = float32From(input.weights);
  if (weights.length !== PARAM_COUNT)
    throw new Error(`expected ${PARAM_COUNT} weights, got ${weights.length}`);
  if (input.pixels.byteLength % PIXELS !== 0)
    throw new Error(`${input.pixels.byteLength} bytes are not whole images`);
  return predict(weights, input.pixels, input.pixels.byteLength / PIXELS);
}
