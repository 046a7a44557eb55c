/**
 * The Mandelbrot set, one tile at a time, as RGBA bytes. Only + - * and sqrt (exactly
 * rounded in IEEE 754), so a tile is the same bytes in every engine, and the tiles
 * put together equal an image rendered in one piece.
 */

/** Which part of the plane, at what size. */
export interface View {
  /** Image size in pixels. */
  width: number;
  height: number;
  /** The complex number at the image's center. */
  centerX: number;
  centerY: number;
  /** Width of one pixel in the complex plane. */
  pixelSize: number;
  /** Iterations before a point counts as inside the set. */
  maxIter: number;
  /** Anti-aliasing: `samples x samples` points per pixel, colours averaged. */
  samples: number;
}

/** A rectangle of the image: what one task renders. */
export interface Tile {
  x: number;
  y: number;
  w: number;
  h: number;
}

/** Colour stops (iteration fraction 0..1 after a square root), RGB. */
const STOPS: readonly (readonly [number, number, number, number])[] = [
  [0, 0, 7, 100],
  [0.16, 32, 107, 203],
  [0.42, 237, 255, 255],
  [0.6425, 255, 170, 0],
  [0.8575, 0, 2, 0],
  [1, 0, 7, 100],
];

/** 1024 RGB colours interpolated between the stops. */
export const PALETTE: Uint8Array = (() => {
  const size = 1024;
  const out = new Uint8Array(size * 3);
  for (let i = 0; i < size; i++) {
    const t = i / (size - 1);
    let k = 0;
    while (k < STOPS.length - 2 && t > (STOPS[k + 1] as readonly number[])[0]!)
      k++;
    const [t0, r0, g0, b0] = STOPS[k] as readonly number[] as [
      number,
      number,
      number,
      number,
    ];
    const [t1, r1, g1, b1] = STOPS[k + 1] as readonly number[] as [
      number,
      number,
      number,
      number,
    ];
    const f = (t - t0) / (t1 - t0);
    out[i * 3] = Math.round(r0 + (r1 - r0) * f);
    out[i * 3 + 1] = Math.round(g0 + (g1 - g0) * f);
    out[i * 3 + 2] = Math.round(b0 + (b1 - b0) * f);
  }
  return out;
})();

/** Iterations before `c = (cx, cy)` escapes, or `maxIter` if it does not. */
export function escapeTime(cx: number, cy: number, maxIter: number): number {
  // Main cardioid and period-2 bulb: inside, no need to iterate.
  const q = (cx - 0.25) * (cx - 0.25) + cy * cy;
  if (q * (q + (cx - 0.25)) <= 0.25 * cy * cy) return maxIter;
  if ((cx + 1) * (cx + 1) + cy * cy <= 0.0625) return maxIter;
  let x = 0;
  let y = 0;
  let x2 = 0;
  let y2 = 0;
  let i = 0;
  while (i < maxIter && x2 + y2 <= 4) {
    y = 2 * x * y + cy;
    x = x2 - y2 + cx;
    x2 = x * x;
    y2 = y * y;
    i++;
  }
  return i;
}

/** The complex coordinate of column `px` (fractional: a point inside a pixel). */
export function planeX(view: View, px: number): number {
  return view.centerX + (px - view.width / 2) * view.pixelSize;
}

/** The complex coordinate of row `py` (fractional; up is +i). */
export function planeY(view: View, py: number): number {
  return view.centerY - (py - view.height / 2) * view.pixelSize;
}

/** Renders `tile` of `view` as RGBA, row by row (`tile.w * tile.h * 4` bytes). */
export function renderTile(view: View, tile: Tile): Uint8Array {
  const out = new Uint8Array(tile.w * tile.h * 4);
  const k = view.samples;
  const colours = PALETTE.length / 3;
  // Sample offsets inside a pixel: (s + 0.5) / k.
  const offsets = Array.from({ length: k }, (_, s) => (s + 0.5) / k);
  let o = 0;
  for (let row = 0; row < tile.h; row++) {
    for (let col = 0; col < tile.w; col++) {
      let r = 0;
      let g = 0;
      let b = 0;
      for (const dy of offsets) {
        const cy = planeY(view, tile.y + row + dy);
        for (const dx of offsets) {
          const n = escapeTime(
            planeX(view, tile.x + col + dx),
            cy,
            view.maxIter,
          );
          if (n < view.maxIter) {
            // Cycle the palette on a square-root ramp: detail near the set, calm far off.
            const p = (Math.floor(Math.sqrt(n) * 32) % colours) * 3;
            r += PALETTE[p] as number;
            g += PALETTE[p + 1] as number;
            b += PALETTE[p + 2] as number;
          } // inside the set: black
        }
      }
      const count = k * k;
      out[o] = Math.round(r / count);
      out[o + 1] = Math.round(g / count);
      out[o + 2] = Math.round(b / count);
      out[o + 3] = 255;
      o += 4;
    }
  }
  return out;
}
