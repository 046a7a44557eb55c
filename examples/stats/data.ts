/**
 * The stats dataset: synthetic taxi-fare records `(city, fare in cents)`, made
 * deterministically chunk by chunk from a seed. A worker given `{seed, chunk, rows}`
 * generates exactly the rows the single-process check generates for that chunk, so no
 * rows travel through the master.
 *
 * Fares are whole cents in [FLAG_FALL, MAX_CENTS]: integer sums are exact in float64, which
 * makes count, sum and sum of squares independent of the order rows are merged in.
 */
import { mixSeed, Random } from '../common/random.js';

/** The groups (cities), and the share of rows, typical fare and spread of each. */
export const CITIES = [
  { name: 'amsterdam', weight: 3, fare: 2_400, spread: 0.35, tail: 0.02 },
  { name: 'berlin', weight: 5, fare: 1_900, spread: 0.3, tail: 0.03 },
  { name: 'lisbon', weight: 2, fare: 1_200, spread: 0.4, tail: 0.05 },
  { name: 'madrid', weight: 4, fare: 1_500, spread: 0.3, tail: 0.02 },
  { name: 'oslo', weight: 1, fare: 3_800, spread: 0.25, tail: 0.01 },
  { name: 'paris', weight: 6, fare: 2_200, spread: 0.45, tail: 0.04 },
  { name: 'rome', weight: 3, fare: 1_700, spread: 0.5, tail: 0.06 },
  { name: 'vienna', weight: 2, fare: 2_000, spread: 0.2, tail: 0.01 },
] as const;

export const GROUP_COUNT = CITIES.length;

/** Every fare starts at this. */
const FLAG_FALL = 250;

/** Largest fare: below 2^20, so a square is below 2^40 (see summary.ts). */
export const MAX_CENTS = 1_000_000;

/** What one stats task receives: which rows to generate. */
export interface StatsInput {
  seed: number;
  chunk: number;
  rows: number;
}

/** One chunk of rows, column-wise. */
export interface Rows {
  group: Uint8Array;
  cents: Uint32Array;
}

const CUMULATIVE = (() => {
  const total = CITIES.reduce((sum, city) => sum + city.weight, 0);
  let running = 0;
  return CITIES.map((city) => (running += city.weight) / total);
})();

/** Generates chunk `chunk` of the dataset: the same rows for the same arguments. */
export function generateChunk(seed: number, chunk: number, rows: number): Rows {
  const random = new Random(mixSeed(seed, chunk));
  const group = new Uint8Array(rows);
  const cents = new Uint32Array(rows);
  for (let i = 0; i < rows; i++) {
    const u = random.next();
    let g = 0;
    while (g < GROUP_COUNT - 1 && u >= (CUMULATIVE[g] as number)) g++;
    const city = CITIES[g] as (typeof CITIES)[number];
    // A skewed body (a squared normal around 1) and a heavy tail of long trips.
    const body = 1 + city.spread * random.normal();
    let fare = city.fare * body * body;
    if (random.next() < city.tail) fare *= 1 + 1 / (random.next() + 0.02);
    group[i] = g;
    cents[i] = Math.min(MAX_CENTS, FLAG_FALL + Math.round(fare));
  }
  return { group, cents };
}
