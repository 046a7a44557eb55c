import { describe, expect, test } from 'vitest';
import {
  accuracy,
  Adam,
  bytesOf,
  decodeWeightsFile,
  encodeWeightsFile,
  float32From,
  float64From,
  gradient,
  PARAM_COUNT,
  predict,
  ROW,
  zeroWeights,
} from '../../../examples/train/model.js';
import {
  CLASS_COUNT,
  makeImages,
  PIXELS,
} from '../../../examples/train/shapes.js';
import trainTask from '../../../examples/train/task.js';
import classifyTask from '../../../examples/classify/task.js';
import {
  addGradient,
  emptyGradient,
  trainingSet,
  trainSingleProcess,
  type TrainConfig,
} from '../../../examples/train/training.js';
import { Random } from '../../../examples/common/random.js';

function randomWeights(seed: number, scale: number): Float32Array {
  const random = new Random(seed);
  return Float32Array.from({ length: PARAM_COUNT }, () =>
    random.range(-scale, scale),
  );
}

const TINY: TrainConfig = {
  seed: 3,
  shards: 2,
  shardSize: 150,
  rounds: 15,
  learningRate: 0.02,
  testSize: 200,
};

describe('shapes', () => {
  test('deterministic images of every class, bytes in range', () => {
    const a = makeImages(1, 0, 300);
    const b = makeImages(1, 0, 300);
    // Byte comparison: a deep equality walk over 300 images is slow on a loaded machine.
    const same = (x: ArrayBufferView, y: ArrayBufferView): boolean =>
      Buffer.from(x.buffer, x.byteOffset, x.byteLength).equals(
        Buffer.from(y.buffer, y.byteOffset, y.byteLength),
      );
    expect(same(a.pixels, b.pixels)).toBe(true);
    expect(same(a.labels, b.labels)).toBe(true);
    expect(a.pixels.byteLength).toBe(300 * PIXELS);
    expect(new Set(a.labels).size).toBe(CLASS_COUNT);
    expect(same(makeImages(1, 1, 300).pixels, a.pixels)).toBe(false);
    // Shapes have ink: every image has bright pixels.
    for (let i = 0; i < 300; i++) {
      const image = a.pixels.subarray(i * PIXELS, (i + 1) * PIXELS);
      expect(Math.max(...image)).toBeGreaterThan(150);
    }
  });
});

describe('softmax regression', () => {
  test('the gradient matches central finite differences of the loss', () => {
    const set = makeImages(2, 0, 6);
    const weights = randomWeights(4, 0.05);
    const { grad, loss } = gradient(weights, set);
    expect(loss).toBeGreaterThan(0);
    const random = new Random(9);
    // Pixel weights of every class and every bias.
    const coordinates = [
      ...Array.from({ length: 30 }, () => random.int(PARAM_COUNT)),
      ...Array.from({ length: CLASS_COUNT }, (_, c) => c * ROW + PIXELS),
    ];
    for (const k of coordinates) {
      const w = weights[k] as number;
      const plus = weights.slice();
      const minus = weights.slice();
      plus[k] = w + 1e-3;
      minus[k] = w - 1e-3;
      // The step actually taken in Float32.
      const step = (plus[k] as number) - (minus[k] as number);
      const numeric =
        (gradient(plus, set).loss - gradient(minus, set).loss) / step;
      expect(Math.abs(numeric - (grad[k] as number))).toBeLessThan(
        1e-4 + 1e-3 * Math.abs(numeric),
      );
    }
  });

  test('at zero weights: loss ln(10) per image, gradient sums split over shards', () => {
    const set = makeImages(5, 0, 40);
    const whole = gradient(zeroWeights(), set);
    expect(whole.loss / whole.count).toBeCloseTo(Math.log(10), 12);
    const halves = [0, 1].map((h) =>
      gradient(zeroWeights(), {
        count: 20,
        pixels: set.pixels.subarray(h * 20 * PIXELS, (h + 1) * 20 * PIXELS),
        labels: set.labels.subarray(h * 20, (h + 1) * 20),
      }),
    );
    const total = emptyGradient();
    for (const half of halves) addGradient(total, half);
    expect(total.count).toBe(40);
    expect(total.loss).toBeCloseTo(whole.loss, 10);
    for (let k = 0; k < PARAM_COUNT; k += 97)
      expect(total.grad[k]).toBeCloseTo(whole.grad[k] as number, 10);
  });

  test('training lowers the loss and learns well past chance', () => {
    const { weights, rounds } = trainSingleProcess(TINY);
    const first = rounds[0]?.loss as number;
    const last = rounds[rounds.length - 1]?.loss as number;
    expect(last).toBeLessThan(first * 0.6);
    const test = makeImages(TINY.seed, 999, TINY.testSize);
    expect(accuracy(weights, test)).toBeGreaterThan(0.5);
  });

  test('gradient correctness count and predict agree', () => {
    const set = trainingSet(TINY);
    const weights = randomWeights(11, 0.02);
    const predicted = predict(weights, set.pixels, set.count);
    const right = predicted.filter((p, i) => p === set.labels[i]).length;
    expect(gradient(weights, set).correct).toBe(right);
  });

  test('an Adam step moves against the gradient', () => {
    const weights = zeroWeights();
    const grad = new Float64Array(PARAM_COUNT);
    grad[0] = 5;
    grad[1] = -5;
    new Adam({ learningRate: 0.1, decay: 0 }).step(weights, grad, 1);
    expect(weights[0]).toBeCloseTo(-0.1, 5);
    expect(weights[1]).toBeCloseTo(0.1, 5);
    expect(weights[2]).toBe(0);
  });
});

describe('bytes', () => {
  test('weights file round trip; bad files refused', () => {
    const weights = randomWeights(1, 1);
    expect(decodeWeightsFile(encodeWeightsFile(weights))).toEqual(weights);
    expect(() => decodeWeightsFile(new Uint8Array(16))).toThrow(/weights file/);
  });

  test('typed arrays from unaligned bytes', () => {
    const f32 = Float32Array.of(1.5, -2, 3.25);
    const f64 = Float64Array.of(Math.PI, -1e300);
    const shifted = new Uint8Array(1 + 24);
    shifted.set(bytesOf(f64), 1);
    expect(float64From(shifted.subarray(1, 17))).toEqual(f64);
    shifted.set(bytesOf(f32), 1);
    expect(float32From(shifted.subarray(1, 13))).toEqual(f32);
    expect(() => float32From(new Uint8Array(3))).toThrow(RangeError);
  });
});

describe('tasks', () => {
  test('a train task returns the gradient of its shard as bytes', () => {
    const weights = randomWeights(2, 0.01);
    const output = trainTask({
      seed: 4,
      shard: 1,
      shardSize: 50,
      weights: bytesOf(weights),
    });
    const expected = gradient(weights, makeImages(4, 1, 50));
    expect(output.grad).toBeInstanceOf(Uint8Array);
    expect(float64From(output.grad)).toEqual(expected.grad);
    expect(output).toMatchObject({
      loss: expected.loss,
      correct: expected.correct,
      count: 50,
    });
  });

  test('a classify task returns predictions as bytes', () => {
    const weights = randomWeights(3, 0.05);
    const set = makeImages(6, 0, 25);
    const output = classifyTask({
      weights: bytesOf(weights),
      pixels: set.pixels,
    });
    expect(output).toBeInstanceOf(Uint8Array);
    expect(output).toEqual(predict(weights, set.pixels, 25));
    expect(() =>
      classifyTask({ weights: new Uint8Array(8), pixels: set.pixels }),
    ).toThrow(/weights/);
  });
});
