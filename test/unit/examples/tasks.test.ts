/**
 * Every example's task module must run in a browser Web Worker as well as a Node worker
 * thread: it bundles platform-neutral (no Node built-ins) and runs from the bundle.
 */
import path from 'node:path';
import { describe, expect, test } from 'vitest';
import { bundleModule } from '../../../server/client/index.js';
import { bytesOf, zeroWeights } from '../../../examples/train/model.js';
import { makeImages } from '../../../examples/train/shapes.js';
import { mandelbrotInputs } from '../../../examples/mandelbrot/job.js';

const EXAMPLES = path.resolve(import.meta.dirname, '../../../examples');

async function load(name: string): Promise<(input: unknown) => unknown> {
  const source = await bundleModule(path.join(EXAMPLES, name, 'task.ts'));
  expect(source).not.toMatch(/\bfrom\s*["']node:|require\(/);
  const module = (await import(
    `data:text/javascript;base64,${Buffer.from(source).toString('base64')}`
  )) as { default: (input: unknown) => unknown };
  expect(typeof module.default).toBe('function');
  return module.default;
}

describe('example task modules, bundled', () => {
  test('stats', async () => {
    const run = await load('stats');
    const output = run({ seed: 1, chunk: 0, rows: 1_000 }) as {
      groups: { count: number }[];
    };
    expect(output.groups.reduce((n, g) => n + g.count, 0)).toBe(1_000);
  });

  test('train', async () => {
    const run = await load('train');
    const output = run({
      seed: 1,
      shard: 0,
      shardSize: 10,
      weights: bytesOf(zeroWeights()),
    }) as { grad: Uint8Array; count: number };
    expect(output.grad).toBeInstanceOf(Uint8Array);
    expect(output.count).toBe(10);
  });

  test('classify', async () => {
    const run = await load('classify');
    const { pixels } = makeImages(1, 0, 7);
    const output = run({ weights: bytesOf(zeroWeights()), pixels });
    expect(output).toEqual(new Uint8Array(7));
  });

  test('mandelbrot', async () => {
    const run = await load('mandelbrot');
    const [input] = mandelbrotInputs({ width: 16, height: 16, tile: 16 });
    const output = run(input) as Uint8Array;
    expect(output).toBeInstanceOf(Uint8Array);
    expect(output.byteLength).toBe(16 * 16 * 4);
  });
});
