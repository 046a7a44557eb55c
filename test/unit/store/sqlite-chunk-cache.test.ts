/** The read side of input chunks: cutting texts out, splitting, and the cache of chunks. */
import { describe, expect, test } from 'vitest';
import type { TextChunk } from '../../../server/master/store/sqlite-chunk-cache.js';
import {
  ChunkCache,
  copyTexts,
} from '../../../server/master/store/sqlite-chunk-cache.js';
import type { EncodedValue } from '../../../server/master/store/store.js';

/** A chunk of tasks first..first+count-1 whose texts are `"<task>"`. */
function chunk(jid: number, first: number, count: number): TextChunk {
  const texts = Array.from({ length: count }, (_, i) => `"${first + i}"`);
  return { jid, first, count, text: texts.join('\n'), texts: undefined };
}

describe('copyTexts', () => {
  test('a few texts are cut out without splitting the chunk', () => {
    const c = chunk(1, 100, 50);
    const out: EncodedValue[] = [];
    expect(copyTexts(c, 110, 112, out)).toBe(113);
    expect(out).toEqual(['"110"', '"111"', '"112"']);
    expect(c.texts).toBeUndefined();
  });

  test('many texts split the chunk; a run stops at its end', () => {
    const c = chunk(1, 100, 50);
    const out: EncodedValue[] = [];
    expect(copyTexts(c, 120, 500, out)).toBe(150);
    expect(out).toHaveLength(30);
    expect(out[29]).toBe('"149"');
    expect(c.texts).toHaveLength(50);
  });

  test('a chunk that does not hold its count of texts is refused', () => {
    const short = { ...chunk(3, 0, 4), count: 5 };
    expect(() => copyTexts(short, 0, 4, [])).toThrow(/does not hold 5 texts/);
    expect(() => copyTexts({ ...short }, 4, 4, [])).toThrow(/does not hold/);
  });
});

describe('ChunkCache', () => {
  test('an unsplit chunk waits in its own slot and is split at its second use', () => {
    const cache = new ChunkCache();
    const c = chunk(1, 0, 10);
    cache.add(c);
    expect(cache.find(2, 5)).toBeUndefined();
    expect(cache.find(1, 10)).toBeUndefined();
    expect(cache.find(1, 5)).toBe(c);
    expect(c.texts).toHaveLength(10);
    // Now among the split chunks: found by its first task and by any of its tasks.
    expect(cache.get(1, 0)).toBe(c);
    expect(cache.find(1, 9)).toBe(c);
  });

  test('a newer unsplit chunk replaces the older one', () => {
    const cache = new ChunkCache();
    cache.add(chunk(1, 0, 10));
    cache.add(chunk(1, 10, 10));
    expect(cache.find(1, 3)).toBeUndefined();
    expect(cache.get(1, 10)?.first).toBe(10);
  });

  test('keeps a bounded number of split chunks, dropping the least recently used', () => {
    const cache = new ChunkCache();
    const chunks = Array.from({ length: 200 }, (_, i) => {
      const c = chunk(1, i * 4, 4);
      c.texts = c.text.split('\n');
      return c;
    });
    cache.add(chunks[0]!);
    for (const c of chunks.slice(1)) {
      cache.add(c);
      // Used again each time: the first chunk stays the most recently used.
      expect(cache.get(1, 0)).toBe(chunks[0]);
    }
    expect(cache.get(1, 4)).toBeUndefined();
    expect(cache.get(1, 199 * 4)).toBe(chunks[199]);
  });
});
