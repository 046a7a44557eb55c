/**
 * The training run, shared by the driver and the single-process reference: the
 * configuration, gradient sums, and training in one process (the whole training set in
 * one gradient per round).
 */
import {
  Adam,
  accuracy,
  gradient,
  PARAM_COUNT,
  zeroWeights,
  type GradientSum,
} from './model.js';
import { makeImages, PIXELS, TEST_PART, type ImageSet } from './shapes.js';

export interface TrainConfig {
  seed: number;
  /** Training shards (one task each per round). */
  shards: number;
  /** Images per shard. */
  shardSize: number;
  rounds: number;
  learningRate: number;
  /** Held-out images for the final accuracy. */
  testSize: number;
}

export const FULL_CONFIG: TrainConfig = {
  seed: 7,
  shards: 8,
  shardSize: 2_500,
  rounds: 25,
  learningRate: 0.02,
  testSize: 5_000,
};

export const SMALL_CONFIG: TrainConfig = {
  seed: 7,
  shards: 4,
  shardSize: 500,
  rounds: 20,
  learningRate: 0.02,
  testSize: 1_000,
};

/** Loss and accuracy of one round, on the training set, at the weights it started with. */
export interface RoundStats {
  round: number;
  loss: number;
  accuracy: number;
}

/** Adds one shard's gradient sum into a running total. */
export function addGradient(total: GradientSum, part: GradientSum): void {
  const { grad } = total;
  for (let k = 0; k < PARAM_COUNT; k++)
    grad[k] = (grad[k] as number) + (part.grad[k] as number);
  total.loss += part.loss;
  total.correct += part.correct;
  total.count += part.count;
}

export function emptyGradient(): GradientSum {
  return {
    grad: new Float64Array(PARAM_COUNT),
    loss: 0,
    correct: 0,
    count: 0,
  };
}

/** The held-out test set of a configuration. */
export function testSet(config: TrainConfig): ImageSet {
  return makeImages(config.seed, TEST_PART, config.testSize);
}

/** Every training shard of a configuration, concatenated: the whole training set. */
export function trainingSet(config: TrainConfig): ImageSet {
  const count = config.shards * config.shardSize;
  const pixels = new Uint8Array(count * PIXELS);
  const labels = new Uint8Array(count);
  for (let s = 0; s < config.shards; s++) {
    const shard = makeImages(config.seed, s, config.shardSize);
    pixels.set(shard.pixels, s * config.shardSize * PIXELS);
    labels.set(shard.labels, s * config.shardSize);
  }
  return { count, pixels, labels };
}

/** Trains in this process: one gradient over the whole training set per round. */
export function trainSingleProcess(
  config: TrainConfig,
  onRound?: (stats: RoundStats) => void,
): { weights: Float32Array; rounds: RoundStats[] } {
  const set = trainingSet(config);
  const weights = zeroWeights();
  const adam = new Adam({ learningRate: config.learningRate });
  const rounds: RoundStats[] = [];
  for (let round = 1; round <= config.rounds; round++) {
    const sum = gradient(weights, set);
    adam.step(weights, sum.grad, sum.count);
    const stats = {
      round,
      loss: sum.loss / sum.count,
      accuracy: sum.correct / sum.count,
    };
    rounds.push(stats);
    onRound?.(stats);
  }
  return { weights, rounds };
}

export { accuracy };
