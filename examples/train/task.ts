/**
 * The train task: the gradient of the loss on one shard at the weights of this round.
 * The shard is made from the seed here (images do not travel); a worker keeps the
 * shards it made, so later rounds only compute. No Node APIs: runs in browsers too.
 */
import { bytesOf, float32From, gradient, PARAM_COUNT } from './model.js';
import { makeImages, type ImageSet } from './shapes.js';

export interface TrainInput {
  seed: number;
  shard: number;
  shardSize: number;
  /** The current weights: Float32Array bytes. */
  weights: Uint8Array;
}

export interface TrainOutput {
  /** Summed gradient: Float64Array bytes. */
  grad: Uint8Array;
  loss: number;
  correct: number;
  count: number;
  /** Compute time in the worker (making a shard included). */
  ms: number;
}

/** Shards this thread has made, newest last (a worker usually gets the same ones). */
const shards = new Map<string, ImageSet>();
const KEEP_SHARDS = 16;

function shardOf(seed: number, shard: number, size: number): ImageSet {
  const key = `${seed}/${shard}/${size}`;
  let set = shards.get(key);
  if (!set) {
    set = makeImages(seed, shard, size);
    shards.set(key, set);
    if (shards.size > KEEP_SHARDS)
      shards.delete(shards.keys().next().value as string);
  }
  return set;
}

export default function trainTask(input: TrainInput): TrainOutput {
  const started = performance.now();
  const weights = float32From(input.weights);
  if (weights.length !== PARAM_COUNT)
    throw new Error(`expected ${PARAM_COUNT} weights, got ${weights.length}`);
  const set = shardOf(input.seed, input.shard, input.shardSize);
  const result = gradient(weights, set);
  return {
    grad: bytesOf(result.grad),
    loss: result.loss,
    correct: result.correct,
    count: result.count,
    ms: performance.now() - started,
  };
}
