/**
 * The master's heap warm-up grows V8's young generation (it never shrinks it) and
 * reports the size V8 then gives.
 */
import { describe, expect, test } from 'vitest';
import {
  growYoungGeneration,
  youngGenerationBytes,
} from '../../../server/master/warm-up-heap.js';

describe('heap warm-up', () => {
  test('the young generation is at least as large after, and grew if it could', async () => {
    const before = youngGenerationBytes();
    expect(before).toBeGreaterThan(0);
    const size = await growYoungGeneration();
    expect(size).toBe(youngGenerationBytes());
    expect(size).toBeGreaterThanOrEqual(before);
    // 32 MB (two semi-spaces of 16 MB) is where V8 stops on 64-bit machines.
    if (before < 32 * 1024 * 1024) expect(size).toBeGreaterThan(before);
  });
});
