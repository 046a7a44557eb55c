/**
 * `npm run example -- mandelbrot`: the Mandelbrot set in tiles of 64x64 pixels, one
 * task each, put together here and written as a PNG; checked byte for byte against the
 * image rendered in one piece in this process.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import {
  bundleTask,
  checkLine,
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
  UsageError,
} from '../common/driver.js';
import {
  assembleImage,
  encodePng,
  mandelbrotInputs,
  renderImage,
  viewOf,
  type MandelbrotOptions,
} from './job.js';

export interface MandelbrotRunOptions
  extends ClusterOptions, MandelbrotOptions {
  /** The PNG file. @defaultValue ./mandelbrot.png */
  out?: string | undefined;
  /** 384x256, 500 iterations (what the tests run) */
  small?: boolean | undefined;
  print?: Print;
}

export interface MandelbrotReport {
  file: string;
  width: number;
  height: number;
  distributedMs: number;
  singleMs: number;
  check: Check;
}

const USAGE = `usage: npm run example -- mandelbrot [--width N] [--height N] [--tile N]
                   [--max-iter N] [--samples K] [--center-x X] [--center-y Y]
                   [--span S] [--out FILE]

Renders the Mandelbrot set (default 1536x1024, Seahorse Valley, 3x3 samples per pixel)
in 64x64 tiles on the workers and writes the PNG (default ./mandelbrot.png). Negative numbers take an =
sign: --center-x=-0.75.`;

export async function runMandelbrot(
  options: MandelbrotRunOptions = {},
): Promise<MandelbrotReport> {
  const print = options.print ?? printToStdout;
  const small = options.small ?? false;
  const jobOptions: MandelbrotOptions = {
    width: options.width ?? (small ? 384 : undefined),
    height: options.height ?? (small ? 256 : undefined),
    maxIter: options.maxIter ?? (small ? 500 : undefined),
    samples: options.samples ?? (small ? 2 : undefined),
    tile: options.tile,
    centerX: options.centerX,
    centerY: options.centerY,
    span: options.span,
  };
  const view = viewOf(jobOptions);
  const inputs = mandelbrotInputs(jobOptions);
  const tile = jobOptions.tile ?? 64;
  print(
    `mandelbrot: ${view.width}x${view.height} pixels around ${view.centerX} ${view.centerY >= 0 ? '+' : '-'} ${Math.abs(view.centerY)}i, ` +
      `up to ${thousands(view.maxIter)} iterations, ${view.samples}x${view.samples} samples per pixel, ${inputs.length} tiles of ${tile}x${tile}`,
  );

  const cluster = await openCluster(options);
  let rgba: Uint8Array;
  let distributedMs: number;
  try {
    print(`cluster: ${cluster.description}`);
    const module = await bundleTask('mandelbrot');
    const started = performance.now();
    const { results } = await cluster.client.run({
      name: `mandelbrot ${view.width}x${view.height}`,
      module,
      inputs,
    });
    rgba = assembleImage(inputs, outputsOf<Uint8Array>(results));
    distributedMs = since(started);
  } finally {
    await cluster.close();
  }
  const file = path.resolve(options.out ?? 'mandelbrot.png');
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, encodePng(rgba, view.width, view.height));
  print(`png: ${file}`);

  const singleStarted = performance.now();
  const reference = renderImage(view);
  const singleMs = since(singleStarted);
  let differ = 0;
  for (let i = 0; i < reference.length; i += 4) {
    if (
      reference[i] !== rgba[i] ||
      reference[i + 1] !== rgba[i + 1] ||
      reference[i + 2] !== rgba[i + 2] ||
      reference[i + 3] !== rgba[i + 3]
    )
      differ++;
  }
  print(
    `distributed:    ${seconds(distributedMs)} (${inputs.length} tasks, tiles returned as RGBA bytes)`,
  );
  print(`single-process: ${seconds(singleMs)}`);
  const check: Check =
    differ === 0
      ? {
          ok: true,
          detail: `the assembled image is byte-equal to a single-process render`,
        }
      : {
          ok: false,
          detail: `${thousands(differ)} pixels differ from a single-process render`,
        };
  print(checkLine(check));
  return {
    file,
    width: view.width,
    height: view.height,
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
        width: { type: 'string' },
        height: { type: 'string' },
        tile: { type: 'string' },
        'max-iter': { type: 'string' },
        samples: { type: 'string' },
        'center-x': { type: 'string' },
        'center-y': { type: 'string' },
        span: { type: 'string' },
        out: { type: 'string' },
      });
      const span = numberFlag('span', flags.span);
      if (span !== undefined && !(span > 0))
        throw new UsageError('--span must be a positive number');
      const report = await runMandelbrot({
        url: flags.url,
        token: flags.token,
        small: flags.small,
        threads: intFlag('threads', flags.threads, 1, 64),
        width: intFlag('width', flags.width, 1, 16_384),
        height: intFlag('height', flags.height, 1, 16_384),
        tile: intFlag('tile', flags.tile, 1, 4_096),
        maxIter: intFlag('max-iter', flags['max-iter'], 1, 1_000_000),
        samples: intFlag('samples', flags.samples, 1, 16),
        centerX: numberFlag('center-x', flags['center-x']),
        centerY: numberFlag('center-y', flags['center-y']),
        span,
        out: flags.out,
      });
      return report.check;
    },
    argv,
  );
}
