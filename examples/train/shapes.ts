/**
 * The image dataset of `train` and `classify`: 28x28 grey renderings of ten shapes at
 * random positions, sizes, stroke widths and small rotations, with noise. Rendering
 * uses only + - * / and sqrt (exactly rounded everywhere), so a seed gives the same
 * bytes in every JavaScript engine.
 */
import { mixSeed, Random } from '../common/random.js';

export const SIDE = 28;
export const PIXELS = SIDE * SIDE;

export const CLASS_NAMES = [
  'ring',
  'disk',
  'square',
  'block',
  'triangle',
  'plus',
  'cross',
  'hbars',
  'vbars',
  'diamond',
] as const;
export const CLASS_COUNT = CLASS_NAMES.length;

/** A batch of images: `count` images of PIXELS bytes each, row by row, and labels. */
export interface ImageSet {
  count: number;
  pixels: Uint8Array;
  labels: Uint8Array;
}

/** cos and sin of -15, -7.5, 0, 7.5 and 15 degrees, as literals (no Math.cos). */
const ROTATIONS: readonly (readonly [number, number])[] = [
  [0.9659258262890683, -0.25881904510252074],
  [0.9914448613738104, -0.13052619222005157],
  [1, 0],
  [0.9914448613738104, 0.13052619222005157],
  [0.9659258262890683, 0.25881904510252074],
];
/** 2 % of pixels get a speckle. */
const SPECKLE = 0.02 * 4_294_967_296;
const SQRT_HALF = 0.7071067811865476;
const SIN_60 = 0.8660254037844386;

/** Signed distance (pixels; negative inside) from `(x, y)` to shape `label`. */
function distance(
  label: number,
  x: number,
  y: number,
  r: number,
  t: number,
): number {
  const ax = Math.abs(x);
  const ay = Math.abs(y);
  switch (label) {
    case 0: // ring
      return Math.abs(Math.sqrt(x * x + y * y) - r) - t / 2;
    case 1: // disk
      return Math.sqrt(x * x + y * y) - r;
    case 2: // square outline
      return Math.abs(Math.max(ax, ay) - 0.85 * r) - t / 2;
    case 3: // filled square
      return Math.max(ax, ay) - 0.85 * r;
    case 4: {
      // triangle outline, pointing up, circumradius r
      const inside = Math.max(-y, SIN_60 * x + 0.5 * y, -SIN_60 * x + 0.5 * y);
      return Math.abs(inside - r / 2) - t / 2;
    }
    case 5: // plus
      return Math.min(
        Math.max(ax - r, ay - t / 2),
        Math.max(ax - t / 2, ay - r),
      );
    case 6: {
      // cross: a plus turned by 45 degrees
      const u = Math.abs((x + y) * SQRT_HALF);
      const v = Math.abs((y - x) * SQRT_HALF);
      return Math.min(Math.max(u - r, v - t / 2), Math.max(u - t / 2, v - r));
    }
    case 7: // three horizontal bars
    case 8: {
      // three vertical bars
      const along = label === 7 ? ax : ay;
      const across = label === 7 ? y : x;
      const gap = 0.75 * r;
      let best = Infinity;
      for (let k = -1; k <= 1; k++) {
        best = Math.min(
          best,
          Math.max(along - r, Math.abs(across - k * gap) - t / 2),
        );
      }
      return best;
    }
    default: // diamond outline
      return Math.abs((ax + ay) * SQRT_HALF - 0.75 * r) - t / 2;
  }
}

/** Renders one image of `label` into `out` at `offset`. */
export function renderImage(
  random: Random,
  label: number,
  out: Uint8Array,
  offset: number,
): void {
  const cx = SIDE / 2 + random.range(-2, 2);
  const cy = SIDE / 2 + random.range(-2, 2);
  const r = random.range(6, 10);
  const t = random.range(1.6, 2.8);
  const [cos, sin] = ROTATIONS[random.int(ROTATIONS.length)] as readonly [
    number,
    number,
  ];
  const ink = random.range(0.65, 1);
  const noise = random.range(0.1, 0.4);
  for (let py = 0; py < SIDE; py++) {
    for (let px = 0; px < SIDE; px++) {
      const dx = px + 0.5 - cx;
      const dy = py + 0.5 - cy;
      const d = distance(label, cos * dx + sin * dy, cos * dy - sin * dx, r, t);
      // One pixel of anti-aliasing around the edge.
      const coverage = Math.min(1, Math.max(0, 0.5 - d));
      // Triangular noise (two uniforms): cheaper than a normal, as good here.
      let value = ink * coverage + noise * (random.next() + random.next() - 1);
      if (random.nextU32() < SPECKLE) value += 0.6;
      out[offset + py * SIDE + px] = Math.round(
        255 * Math.min(1, Math.max(0, value)),
      );
    }
  }
}

/** `count` images made from `seed` and `part` (a shard, a test set): same arguments, same bytes. */
export function makeImages(
  seed: number,
  part: number,
  count: number,
): ImageSet {
  const random = new Random(mixSeed(seed, part, 0x5a4e));
  const pixels = new Uint8Array(count * PIXELS);
  const labels = new Uint8Array(count);
  for (let i = 0; i < count; i++) {
    const label = random.int(CLASS_COUNT);
    labels[i] = label;
    renderImage(random, label, pixels, i * PIXELS);
  }
  return { count, pixels, labels };
}

/** Part numbers of test sets, far from the shard numbers of training data. */
export const TEST_PART = 1_000_000;
