/**
 * Growing V8's young generation before the first job. V8 starts it at 1 MB a
 * semi-space and doubles it only when more than its capacity has survived scavenges
 * since the last doubling; after idle it shrinks it again. A master whose first job
 * starts on a small young generation scavenges several times as often while the job
 * builds its tables and frames, and copies what is still in flight each time (measured:
 * a first job's scavenges cost the master several times the next job's). A process
 * started with `--min-semi-space-size` would not need this; the master runs in the
 * user's node, so the young generation is grown here instead, by holding short-lived
 * objects across scavenges until V8 stops doubling it.
 */
import v8 from 'node:v8';

/** Where V8 stops doubling on 64-bit machines: 16 MB a semi-space, two semi-spaces. */
const LARGEST_BYTES = 32 * 1024 * 1024;
/** Objects allocated at most (~64 bytes each): a bound if V8 never grows it that far. */
const MAX_ALLOCATED_OBJECTS = 1_500_000;
/** Objects kept alive at once: ~10 MB, more than a half-grown semi-space holds. */
const LIVE_OBJECTS = 160_000;
/** Objects per slice, minus one (the size is read after each slice). */
const CHECK_MASK = 0x3fff;

interface Churn {
  a: number;
  b: number;
  c: number;
  d: number;
  e: number;
  f: number;
}

/** The young generation's size now, in bytes (0 if V8 does not say). */
export function youngGenerationBytes(): number {
  const space = v8
    .getHeapSpaceStatistics()
    .find((s) => s.space_name === 'new_space');
  return space?.space_size ?? 0;
}

/**
 * Allocates objects that live across a scavenge or two each, until the young
 * generation is as large as V8 makes it (or stops growing); resolves with its size in
 * bytes. It works in slices of a few ms, each its own macrotask, so that the master's
 * sockets and timers are served meanwhile.
 */
export async function growYoungGeneration(): Promise<number> {
  const ring = new Array<Churn | undefined>(LIVE_OBJECTS);
  let size = youngGenerationBytes();
  let sinceGrowth = 0;
  for (let i = 0; i < MAX_ALLOCATED_OBJECTS && size < LARGEST_BYTES;) {
    for (const end = i + CHECK_MASK + 1; i < end; i++)
      ring[i % LIVE_OBJECTS] = { a: i, b: i, c: i, d: i, e: i, f: i };
    const now = youngGenerationBytes();
    sinceGrowth += CHECK_MASK + 1;
    if (now > size) {
      size = now;
      sinceGrowth = 0;
    } else if (sinceGrowth > 4 * LIVE_OBJECTS) break; // a smaller cap than ours
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
  ring.fill(undefined);
  return size;
}
