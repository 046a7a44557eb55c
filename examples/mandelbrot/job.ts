/**
 * The mandelbrot job, for the example's driver and for `colony demo` (`npm start`):
 * the task inputs (one per tile), and the image put together from the tiles as a PNG.
 */
import { PNG } from 'pngjs';
import { renderTile, type Tile, type View } from './mandelbrot.js';
import type { TileInput } from './task.js';

export type { TileInput, View };

export interface MandelbrotOptions {
  /** @defaultValue 1536 */
  width?: number | undefined;
  /** @defaultValue 1024 */
  height?: number | undefined;
  /** Tile side in pixels. @defaultValue 64 */
  tile?: number | undefined;
  /** @defaultValue 1500 */
  maxIter?: number | undefined;
  /** @defaultValue -0.7453 (Seahorse Valley) */
  centerX?: number | undefined;
  /** @defaultValue 0.1127 */
  centerY?: number | undefined;
  /** Width of the view in the complex plane. @defaultValue 0.0065 */
  span?: number | undefined;
  /** Anti-aliasing: samples per pixel along each axis (3: 9 per pixel). @defaultValue 3 */
  samples?: number | undefined;
}

/** The view the options describe, defaults filled in. */
export function viewOf(options: MandelbrotOptions = {}): View {
  const width = options.width ?? 1536;
  return {
    width,
    height: options.height ?? 1024,
    centerX: options.centerX ?? -0.7453,
    centerY: options.centerY ?? 0.1127,
    pixelSize: (options.span ?? 0.0065) / width,
    maxIter: options.maxIter ?? 1_500,
    samples: options.samples ?? 3,
  };
}

/** One input per tile, row by row; edge tiles are smaller when the size is not a multiple. */
export function mandelbrotInputs(options: MandelbrotOptions = {}): TileInput[] {
  const view = viewOf(options);
  const side = options.tile ?? 64;
  if (!(Number.isInteger(side) && side > 0))
    throw new RangeError(`tile must be a positive integer, got ${side}`);
  if (!(Number.isInteger(view.samples) && view.samples >= 1))
    throw new RangeError(
      `samples must be a positive integer, got ${view.samples}`,
    );
  const inputs: TileInput[] = [];
  for (let y = 0; y < view.height; y += side) {
    for (let x = 0; x < view.width; x += side) {
      const tile: Tile = {
        x,
        y,
        w: Math.min(side, view.width - x),
        h: Math.min(side, view.height - y),
      };
      inputs.push({ view, tile });
    }
  }
  return inputs;
}

/** Copies each tile's RGBA rows into one RGBA image of the view's size. */
export function assembleImage(
  inputs: readonly TileInput[],
  tiles: readonly Uint8Array[],
): Uint8Array {
  const view = inputs[0]?.view;
  if (!view) throw new RangeError('no tiles');
  if (tiles.length !== inputs.length)
    throw new RangeError(`${tiles.length} tiles for ${inputs.length} inputs`);
  const image = new Uint8Array(view.width * view.height * 4);
  inputs.forEach(({ tile }, i) => {
    const bytes = tiles[i] as Uint8Array;
    if (bytes.byteLength !== tile.w * tile.h * 4) {
      throw new RangeError(
        `tile ${i} has ${bytes.byteLength} bytes, expected ${tile.w * tile.h * 4}`,
      );
    }
    for (let row = 0; row < tile.h; row++) {
      image.set(
        bytes.subarray(row * tile.w * 4, (row + 1) * tile.w * 4),
        ((tile.y + row) * view.width + tile.x) * 4,
      );
    }
  });
  return image;
}

/** The whole view rendered in one piece, in this process: the reference for the check. */
export function renderImage(view: View): Uint8Array {
  return renderTile(view, { x: 0, y: 0, w: view.width, h: view.height });
}

/** RGBA bytes -> PNG file bytes (pngjs). */
export function encodePng(
  rgba: Uint8Array,
  width: number,
  height: number,
): Buffer {
  const png = new PNG({ width, height });
  png.data = Buffer.from(rgba.buffer, rgba.byteOffset, rgba.byteLength);
  return PNG.sync.write(png, { colorType: 2 });
}

/** The PNG of a finished job: tiles (task outputs, in task order) put together. */
export function assemblePng(
  inputs: readonly TileInput[],
  tiles: readonly Uint8Array[],
): { png: Buffer; rgba: Uint8Array; width: number; height: number } {
  const rgba = assembleImage(inputs, tiles);
  const { width, height } = (inputs[0] as TileInput).view;
  return { png: encodePng(rgba, width, height), rgba, width, height };
}
