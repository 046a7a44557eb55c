/**
 * `npm run example -- classify`: image recognition. Generated 28x28 shape images go to
 * the workers as bytes, 100 per task, with the weights `train` saved; predictions come
 * back as bytes. Prints accuracy and the confusion matrix, and checks every prediction
 * against the same model run in this process.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import {
  bundleTask,
  checkLine,
  examplesDir,
  formatTable,
  intFlag,
  openCluster,
  outputsOf,
  parseFlags,
  printToStdout,
  runMain,
  seconds,
  since,
  thousands,
  type Check,
  type ClusterOptions,
  type Print,
} from '../common/driver.js';
import { bytesOf, decodeWeightsFile, predict } from '../train/model.js';
import {
  CLASS_COUNT,
  CLASS_NAMES,
  makeImages,
  PIXELS,
  TEST_PART,
} from '../train/shapes.js';
import { trainSingleProcess, type TrainConfig } from '../train/training.js';
import type { ClassifyInput } from './task.js';

export interface ClassifyOptions extends ClusterOptions {
  /** @defaultValue 10 000 (2 000 with `small`) */
  images?: number | undefined;
  /** Images per task. @defaultValue 100 */
  batch?: number | undefined;
  /** @defaultValue 11 */
  seed?: number | undefined;
  /** A weights file from `train`. @defaultValue examples/train/weights.bin */
  weights?: string | undefined;
  small?: boolean | undefined;
  print?: Print;
}

export interface ClassifyReport {
  accuracy: number;
  /** confusion[true][predicted] */
  confusion: number[][];
  weightsSource: string;
  distributedMs: number;
  singleMs: number;
  check: Check;
}

const USAGE = `usage: npm run example -- classify [--images N] [--batch N] [--weights FILE] [options]

Classifies N generated shape images (default 10,000) with the weights \`train\` saved
(examples/train/weights.bin; without it, a quick model is trained here first).`;

/** A quick model when no weights file exists: trained here, in one process. */
const QUICK_TRAINING: TrainConfig = {
  seed: 7,
  shards: 4,
  shardSize: 1_000,
  rounds: 20,
  learningRate: 0.02,
  testSize: 0,
};

function loadWeights(
  file: string | undefined,
  print: Print,
): { weights: Float32Array; source: string } {
  const defaultFile = path.join(examplesDir(), 'train', 'weights.bin');
  const chosen = file ?? defaultFile;
  if (existsSync(chosen)) {
    return {
      weights: decodeWeightsFile(new Uint8Array(readFileSync(chosen))),
      source: `${path.resolve(chosen)} (saved by train)`,
    };
  }
  if (file) throw new Error(`no weights file ${file}`);
  print(
    `no ${path.relative(process.cwd(), defaultFile)}: training a quick model here first (run \`npm run example -- train\` for the distributed one)`,
  );
  const { weights } = trainSingleProcess(QUICK_TRAINING);
  return {
    weights,
    source: `a quick model trained here, single-process (${thousands(QUICK_TRAINING.shards * QUICK_TRAINING.shardSize)} images, ${QUICK_TRAINING.rounds} rounds)`,
  };
}

export async function runClassify(
  options: ClassifyOptions = {},
): Promise<ClassifyReport> {
  const print = options.print ?? printToStdout;
  const count = options.images ?? (options.small ? 2_000 : 10_000);
  const batch = options.batch ?? 100;
  const seed = options.seed ?? 11;
  const { weights, source } = loadWeights(options.weights, print);
  // A set no training run saw: another seed and part number.
  const images = makeImages(seed, TEST_PART + 1, count);
  const weightBytes = bytesOf(weights);
  const inputs: ClassifyInput[] = [];
  for (let start = 0; start < count; start += batch) {
    const end = Math.min(count, start + batch);
    inputs.push({
      weights: weightBytes,
      pixels: images.pixels.subarray(start * PIXELS, end * PIXELS),
    });
  }
  print(
    `classify: ${thousands(count)} images of shapes (${(images.pixels.byteLength / 1e6).toFixed(1)} MB of pixels) in ${inputs.length} tasks of ${batch}`,
  );
  print(`weights: ${source}`);

  const cluster = await openCluster(options);
  const predicted = new Uint8Array(count);
  let distributedMs: number;
  try {
    print(`cluster: ${cluster.description}`);
    const module = await bundleTask('classify');
    const started = performance.now();
    const { results } = await cluster.client.run({
      name: `classify: ${thousands(count)} images`,
      module,
      inputs,
    });
    outputsOf<Uint8Array>(results).forEach((part, i) =>
      predicted.set(part, i * batch),
    );
    distributedMs = since(started);
  } finally {
    await cluster.close();
  }

  const confusion = Array.from({ length: CLASS_COUNT }, () =>
    new Array<number>(CLASS_COUNT).fill(0),
  );
  let right = 0;
  for (let i = 0; i < count; i++) {
    const truth = images.labels[i] as number;
    const guess = predicted[i] as number;
    (confusion[truth] as number[])[guess] =
      ((confusion[truth] as number[])[guess] as number) + 1;
    if (truth === guess) right++;
  }
  const accuracy = right / count;
  print('');
  print(
    `accuracy: ${(accuracy * 100).toFixed(2)}% (${thousands(right)} of ${thousands(count)})`,
  );
  print('confusion matrix (rows: true class, columns: predicted):');
  print(
    formatTable(
      ['', ...CLASS_NAMES],
      confusion.map((row, c) => [CLASS_NAMES[c] as string, ...row.map(String)]),
    ),
  );
  print('');

  const singleStarted = performance.now();
  const reference = predict(weights, images.pixels, count);
  const singleMs = since(singleStarted);
  let differ = 0;
  for (let i = 0; i < count; i++) if (reference[i] !== predicted[i]) differ++;
  print(
    `distributed:    ${seconds(distributedMs)} (${inputs.length} tasks, pixels and weights sent as bytes)`,
  );
  print(`single-process: ${seconds(singleMs)}`);
  const check: Check =
    differ === 0
      ? {
          ok: true,
          detail: `all ${thousands(count)} predictions equal to single-process`,
        }
      : {
          ok: false,
          detail: `${thousands(differ)} of ${thousands(count)} predictions differ from single-process`,
        };
  print(checkLine(check));
  return {
    accuracy,
    confusion,
    weightsSource: source,
    distributedMs,
    singleMs,
    check,
  };
}

export function main(argv: readonly string[]): Promise<number> {
  return runMain(
    USAGE,
    async () => {
      const flags = parseFlags(argv, {
        images: { type: 'string' },
        batch: { type: 'string' },
        weights: { type: 'string' },
      });
      const report = await runClassify({
        url: flags.url,
        token: flags.token,
        small: flags.small,
        threads: intFlag('threads', flags.threads, 1, 64),
        seed: intFlag('seed', flags.seed, 0, 2 ** 32 - 1),
        images: intFlag('images', flags.images, 1, 10_000_000),
        batch: intFlag('batch', flags.batch, 1, 100_000),
        weights: flags.weights,
      });
      return report.check;
    },
    argv,
  );
}
