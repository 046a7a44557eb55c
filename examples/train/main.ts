/**
 * `npm run example -- train`: data-parallel training of softmax regression on generated
 * 28x28 shapes. Each round is one job: every task computes the gradient on its shard at
 * the current weights; the client sums the gradients and takes an Adam step. Then the
 * same training in this process, and the final test accuracies compared.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import {
  bundleTask,
  checkLine,
  examplesDir,
  intFlag,
  numberFlag,
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
import {
  Adam,
  bytesOf,
  encodeWeightsFile,
  float64From,
  zeroWeights,
} from './model.js';
import type { TrainInput, TrainOutput } from './task.js';
import {
  accuracy,
  addGradient,
  emptyGradient,
  FULL_CONFIG,
  SMALL_CONFIG,
  testSet,
  trainSingleProcess,
  type RoundStats,
  type TrainConfig,
} from './training.js';

export type TrainOptions = ClusterOptions & {
  [K in keyof TrainConfig]?: TrainConfig[K] | undefined;
} & {
  small?: boolean | undefined;
  /** Where to save the weights. @defaultValue examples/train/weights.bin (none when small) */
  out?: string | undefined;
  print?: Print;
};

export interface TrainReport {
  rounds: RoundStats[];
  weights: Float32Array;
  testAccuracy: number;
  singleTestAccuracy: number;
  distributedMs: number;
  singleMs: number;
  /** Mean of (round wall time - the round's compute time spread over the slots). */
  meanOverheadMs: number;
  weightsFile: string | null;
  check: Check;
}

const USAGE = `usage: npm run example -- train [--rounds N] [--shards N] [--shard-size N]
                              [--learning-rate X] [--out FILE] [options]

Data-parallel softmax regression on 28x28 shapes (default 8 shards x 2,500 images,
25 rounds); saves the weights for \`classify\` (default examples/train/weights.bin).`;

function percent(fraction: number): string {
  return `${(fraction * 100).toFixed(1)}%`;
}

export async function runTrain(
  options: TrainOptions = {},
): Promise<TrainReport> {
  const print = options.print ?? printToStdout;
  const base = options.small ? SMALL_CONFIG : FULL_CONFIG;
  const config: TrainConfig = {
    seed: options.seed ?? base.seed,
    shards: options.shards ?? base.shards,
    shardSize: options.shardSize ?? base.shardSize,
    rounds: options.rounds ?? base.rounds,
    learningRate: options.learningRate ?? base.learningRate,
    testSize: options.testSize ?? base.testSize,
  };
  print(
    `train: softmax regression, ${thousands(config.shards * config.shardSize)} images of shapes in ${config.shards} shards, ${config.rounds} rounds (seed ${config.seed})`,
  );
  const weights = zeroWeights();
  const adam = new Adam({ learningRate: config.learningRate });
  const rounds: RoundStats[] = [];
  const overheads: number[] = [];
  let distributedMs: number;

  const cluster = await openCluster(options);
  try {
    print(`cluster: ${cluster.description}`);
    const module = await bundleTask('train');
    const started = performance.now();
    for (let round = 1; round <= config.rounds; round++) {
      const slots = Math.max(1, await cluster.slots());
      const inputs: TrainInput[] = Array.from(
        { length: config.shards },
        (_, shard) => ({
          seed: config.seed,
          shard,
          shardSize: config.shardSize,
          weights: bytesOf(weights),
        }),
      );
      const roundStarted = performance.now();
      // run() follows the results stream: it returns as the job ends, no polling.
      const { results } = await cluster.client.run({
        name: `train: round ${round}/${config.rounds}`,
        module,
        inputs,
      });
      const wallMs = since(roundStarted);
      const outputs = outputsOf<TrainOutput>(results);
      const total = emptyGradient();
      let computeMs = 0;
      let longestMs = 0;
      for (const output of outputs) {
        addGradient(total, { ...output, grad: float64From(output.grad) });
        computeMs += output.ms;
        longestMs = Math.max(longestMs, output.ms);
      }
      adam.step(weights, total.grad, total.count);
      const overheadMs = wallMs - Math.max(longestMs, computeMs / slots);
      overheads.push(overheadMs);
      const stats = {
        round,
        loss: total.loss / total.count,
        accuracy: total.correct / total.count,
      };
      rounds.push(stats);
      print(
        `round ${String(round).padStart(2)}/${config.rounds}  loss ${stats.loss.toFixed(4)}  accuracy ${percent(stats.accuracy).padStart(6)}  ` +
          `wall ${wallMs.toFixed(0).padStart(4)} ms  compute ${computeMs.toFixed(0).padStart(4)} ms on ${slots} slots  overhead ${overheadMs.toFixed(0).padStart(3)} ms`,
      );
    }
    distributedMs = since(started);
  } finally {
    await cluster.close();
  }

  const test = testSet(config);
  const testAccuracy = accuracy(weights, test);
  let weightsFile: string | null = null;
  const out =
    options.out ??
    (options.small
      ? undefined
      : path.join(examplesDir(), 'train', 'weights.bin'));
  if (out) {
    mkdirSync(path.dirname(path.resolve(out)), { recursive: true });
    writeFileSync(out, encodeWeightsFile(weights));
    weightsFile = path.resolve(out);
  }

  const singleStarted = performance.now();
  const single = trainSingleProcess(config);
  const singleMs = since(singleStarted);
  const singleTestAccuracy = accuracy(single.weights, test);

  const meanOverheadMs =
    overheads.reduce((sum, ms) => sum + ms, 0) / overheads.length;
  const last = rounds[rounds.length - 1] as RoundStats;
  const singleLast = single.rounds[single.rounds.length - 1] as RoundStats;
  print('');
  print(
    `final: test accuracy ${percent(testAccuracy)} on ${thousands(config.testSize)} held-out images (training loss ${last.loss.toFixed(4)})`,
  );
  if (weightsFile) print(`weights: ${weightsFile}`);
  print(
    `distributed:    ${seconds(distributedMs)} (${config.rounds} rounds x ${config.shards} tasks; overhead per round: mean ${meanOverheadMs.toFixed(1)} ms)`,
  );
  print(
    `single-process: ${seconds(singleMs)} (test accuracy ${percent(singleTestAccuracy)}, training loss ${singleLast.loss.toFixed(4)})`,
  );
  const gap = Math.abs(testAccuracy - singleTestAccuracy);
  const check: Check =
    gap <= 0.01
      ? {
          ok: true,
          detail: `final test accuracy ${percent(testAccuracy)} vs ${percent(singleTestAccuracy)} single-process: within 1 point`,
        }
      : {
          ok: false,
          detail: `final test accuracy ${percent(testAccuracy)} vs ${percent(singleTestAccuracy)} single-process: ${(gap * 100).toFixed(1)} points apart`,
        };
  print(checkLine(check));
  return {
    rounds,
    weights,
    testAccuracy,
    singleTestAccuracy,
    distributedMs,
    singleMs,
    meanOverheadMs,
    weightsFile,
    check,
  };
}

export function main(argv: readonly string[]): Promise<number> {
  return runMain(
    USAGE,
    async () => {
      const flags = parseFlags(argv, {
        rounds: { type: 'string' },
        shards: { type: 'string' },
        'shard-size': { type: 'string' },
        'learning-rate': { type: 'string' },
        out: { type: 'string' },
      });
      const report = await runTrain({
        url: flags.url,
        token: flags.token,
        small: flags.small,
        threads: intFlag('threads', flags.threads, 1, 64),
        seed: intFlag('seed', flags.seed, 0, 2 ** 32 - 1),
        rounds: intFlag('rounds', flags.rounds, 1, 10_000),
        shards: intFlag('shards', flags.shards, 1, 10_000),
        shardSize: intFlag('shard-size', flags['shard-size']),
        learningRate: numberFlag('learning-rate', flags['learning-rate']),
        out: flags.out,
      });
      return report.check;
    },
    argv,
  );
}
