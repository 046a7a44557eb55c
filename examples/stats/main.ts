/**
 * `npm run example -- stats`: per-city statistics of generated taxi fares (count, mean,
 * standard deviation, min, max, p50/p90/p99), one chunk of rows per task, merged here;
 * then the same computed in this process, and compared.
 */
import {
  checkLine,
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
  bundleTask,
  type Check,
  type ClusterOptions,
  type Print,
} from '../common/driver.js';
import { CITIES, generateChunk, type StatsInput } from './data.js';
import {
  accumulate,
  finalize,
  newAccumulators,
  QUANTILES,
  type ChunkSummary,
  type GroupAccumulator,
  type GroupStats,
} from './summary.js';

export interface StatsOptions extends ClusterOptions {
  /** @defaultValue 10 000 000 (1 000 000 with `small`) */
  rows?: number | undefined;
  /** Rows per task. @defaultValue 250 000 (100 000 with `small`) */
  chunkRows?: number | undefined;
  /** @defaultValue 42 */
  seed?: number | undefined;
  small?: boolean | undefined;
  print?: Print;
}

export interface StatsReport {
  groups: GroupStats[];
  distributedMs: number;
  singleMs: number;
  check: Check;
}

const USAGE = `usage: npm run example -- stats [--rows N] [--chunk-rows N] [options]

Per-city statistics over N generated taxi fares (default 10,000,000): each task makes
and summarizes one chunk of rows; the client merges the summaries.`;

export async function runStats(
  options: StatsOptions = {},
): Promise<StatsReport> {
  const print = options.print ?? printToStdout;
  const rows = options.rows ?? (options.small ? 1_000_000 : 10_000_000);
  const chunkRows = Math.min(
    options.chunkRows ?? (options.small ? 100_000 : 250_000),
    rows,
  );
  const seed = options.seed ?? 42;
  const inputs: StatsInput[] = [];
  for (let start = 0, chunk = 0; start < rows; start += chunkRows, chunk++) {
    inputs.push({ seed, chunk, rows: Math.min(chunkRows, rows - start) });
  }
  print(
    `stats: ${thousands(rows)} taxi fares in ${inputs.length} chunks, ${CITIES.length} cities (seed ${seed})`,
  );

  const cluster = await openCluster(options);
  let merged: GroupAccumulator[];
  let distributedMs: number;
  let workerMs = 0;
  try {
    print(`cluster: ${cluster.description}`);
    const module = await bundleTask('stats');
    const started = performance.now();
    const { results } = await cluster.client.run({
      name: `stats: ${thousands(rows)} rows`,
      module,
      inputs,
    });
    merged = newAccumulators();
    for (const summary of outputsOf<ChunkSummary>(results)) {
      summary.groups.forEach((group, g) =>
        (merged[g] as GroupAccumulator).merge(group),
      );
      workerMs += summary.ms;
    }
    distributedMs = since(started);
  } finally {
    await cluster.close();
  }
  const stats = merged.map(finalize);
  print('');
  print(statsTable(stats));
  print('');

  // The same rows, one accumulator per city, one pass, in this process.
  const singleStarted = performance.now();
  const single = newAccumulators();
  for (const input of inputs)
    accumulate(single, generateChunk(input.seed, input.chunk, input.rows));
  const singleMs = since(singleStarted);

  const check = compare(merged, single, inputs);
  print(
    `distributed:    ${seconds(distributedMs)} (${inputs.length} tasks; ${seconds(workerMs)} of compute in the workers)`,
  );
  print(`single-process: ${seconds(singleMs)}`);
  print(checkLine(check));
  return { groups: stats, distributedMs, singleMs, check };
}

function dollars(cents: number): string {
  return (cents / 100).toFixed(2);
}

export function statsTable(stats: readonly GroupStats[]): string {
  return formatTable(
    [
      'city',
      'trips',
      'mean $',
      'std $',
      'min $',
      ...QUANTILES.map((q) => `p${Math.round(q * 100)} $`),
      'max $',
    ],
    stats.map((s, g) => [
      CITIES[g]?.name ?? String(g),
      thousands(s.count),
      dollars(s.mean),
      dollars(s.std),
      dollars(s.min),
      ...s.quantiles.map(dollars),
      dollars(s.max),
    ]),
  );
}

/**
 * Distributed vs single-process: count, sum, sum of squares, min, max and the sketch's
 * buckets must be identical (so are mean, variance and the quantile estimates); the
 * quantile estimates must be within the sketch's alpha of the exact sorted quantiles.
 */
function compare(
  merged: readonly GroupAccumulator[],
  single: readonly GroupAccumulator[],
  inputs: readonly StatsInput[],
): Check {
  const problems: string[] = [];
  merged.forEach((acc, g) => {
    const name = CITIES[g]?.name ?? String(g);
    const a = JSON.stringify(acc.toJSON());
    const b = JSON.stringify((single[g] as GroupAccumulator).toJSON());
    if (a !== b) problems.push(`${name}: summaries differ`);
  });
  // Exact quantiles: every fare of a city, sorted.
  const values = single.map((acc) => new Uint32Array(acc.count));
  const filled = new Array<number>(single.length).fill(0);
  for (const input of inputs) {
    const { group, cents } = generateChunk(input.seed, input.chunk, input.rows);
    for (let i = 0; i < group.length; i++) {
      const g = group[i] as number;
      (values[g] as Uint32Array)[filled[g]!++] = cents[i] as number;
    }
  }
  let worst = 0;
  merged.forEach((acc, g) => {
    const sorted = (values[g] as Uint32Array).sort();
    for (const q of QUANTILES) {
      const exact = sorted[Math.floor(q * (sorted.length - 1))] as number;
      const error = Math.abs(acc.sketch.quantile(q) - exact) / exact;
      worst = Math.max(worst, error);
      if (error > acc.sketch.alpha * (1 + 1e-9)) {
        problems.push(
          `${CITIES[g]?.name}: p${q * 100} off by ${(error * 100).toFixed(2)}%`,
        );
      }
    }
  });
  const alpha = merged[0]?.sketch.alpha ?? 0;
  return problems.length > 0
    ? { ok: false, detail: problems.slice(0, 5).join('; ') }
    : {
        ok: true,
        detail: `counts, sums, sums of squares, min, max and sketches identical to single-process; quantiles within ${(worst * 100).toFixed(2)}% of the exact sorted values (stated error ${alpha * 100}%)`,
      };
}

export function main(argv: readonly string[]): Promise<number> {
  return runMain(
    USAGE,
    async () => {
      const flags = parseFlags(argv, {
        rows: { type: 'string' },
        'chunk-rows': { type: 'string' },
      });
      const report = await runStats({
        url: flags.url,
        token: flags.token,
        small: flags.small,
        threads: intFlag('threads', flags.threads, 1, 64),
        seed: intFlag('seed', flags.seed, 0, 2 ** 32 - 1),
        rows: intFlag('rows', flags.rows),
        chunkRows: intFlag('chunk-rows', flags['chunk-rows']),
      });
      return report.check;
    },
    argv,
  );
}
