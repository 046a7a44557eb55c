import { PNG } from 'pngjs';
import { describe, expect, test } from 'vitest';
import {
  assembleImage,
  assemblePng,
  encodePng,
  mandelbrotInputs,
  renderImage,
  viewOf,
} from '../../../examples/mandelbrot/job.js';
import { escapeTime } from '../../../examples/mandelbrot/mandelbrot.js';
import mandelbrotTask from '../../../examples/mandelbrot/task.js';

describe('mandelbrot', () => {
  test('escape times of known points', () => {
    expect(escapeTime(0, 0, 100)).toBe(100); // in the main cardioid
    expect(escapeTime(-1, 0, 100)).toBe(100); // in the period-2 bulb
    expect(escapeTime(-2, 0, 100)).toBe(100); // the tip, on the set
    expect(escapeTime(0.3, 0.5, 100)).toBe(100); // inside, iterated
    expect(escapeTime(1, 0, 100)).toBe(3); // 0, 1, 2, 5: escapes
    expect(escapeTime(2, 2, 100)).toBe(1);
  });

  test('tiles cover the image exactly once, edge tiles cut to fit', () => {
    const inputs = mandelbrotInputs({ width: 100, height: 70, tile: 32 });
    expect(inputs).toHaveLength(4 * 3);
    const covered = new Uint8Array(100 * 70);
    for (const { tile } of inputs)
      for (let y = tile.y; y < tile.y + tile.h; y++)
        for (let x = tile.x; x < tile.x + tile.w; x++) covered[y * 100 + x]!++;
    expect(covered.every((n) => n === 1)).toBe(true);
    expect(inputs.at(-1)?.tile).toEqual({ x: 96, y: 64, w: 4, h: 6 });
    expect(() => mandelbrotInputs({ tile: 0 })).toThrow(RangeError);
  });

  test('tiles put together are byte-equal to the image rendered in one piece', () => {
    const options = { width: 100, height: 70, tile: 32, maxIter: 200 };
    const inputs = mandelbrotInputs(options);
    const tiles = inputs.map((input) => mandelbrotTask(input));
    expect(tiles[0]).toBeInstanceOf(Uint8Array);
    const image = assembleImage(inputs, tiles);
    expect(
      Buffer.from(image).equals(Buffer.from(renderImage(viewOf(options)))),
    ).toBe(true);
    // The view is not uniform: it shows the set's edge.
    expect(new Set(image).size).toBeGreaterThan(10);
    // Anti-aliasing changes the picture (the default is 3x3 samples per pixel).
    const aliased = renderImage(viewOf({ ...options, samples: 1 }));
    expect(Buffer.from(aliased).equals(Buffer.from(image))).toBe(false);
    expect(() => mandelbrotInputs({ samples: 0 })).toThrow(/samples/);
  });

  test('assembly refuses tiles of the wrong size or number', () => {
    const inputs = mandelbrotInputs({ width: 64, height: 64, tile: 32 });
    const tiles = inputs.map(() => new Uint8Array(32 * 32 * 4));
    expect(() => assembleImage(inputs, tiles.slice(1))).toThrow(/tiles/);
    tiles[2] = new Uint8Array(10);
    expect(() => assembleImage(inputs, tiles)).toThrow(/tile 2/);
    expect(() => assembleImage([], [])).toThrow(/no tiles/);
  });

  test('the PNG decodes to the assembled pixels', () => {
    const inputs = mandelbrotInputs({
      width: 80,
      height: 48,
      tile: 16,
      maxIter: 100,
    });
    const tiles = inputs.map((input) => mandelbrotTask(input));
    const { png, rgba, width, height } = assemblePng(inputs, tiles);
    expect(png.subarray(1, 4).toString()).toBe('PNG');
    const decoded = PNG.sync.read(png);
    expect([decoded.width, decoded.height]).toEqual([width, height]);
    expect(Buffer.from(decoded.data).equals(Buffer.from(rgba))).toBe(true);
    expect(encodePng(rgba, width, height).equals(png)).toBe(true);
  });
});
