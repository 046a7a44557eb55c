// Frames go unmasked only where no transparent proxy can read them: over TLS, or on
// the loopback interface. Task code chooses outputs, so anywhere else keys are random.
import { describe, expect, test } from 'vitest';
import { maskOption, masklessPath } from '../../../server/worker/ws-mask.js';

describe('masking of the worker frames', () => {
  test.each([
    'wss://colony.example.org/ws',
    'ws://127.0.0.1:8080/ws',
    'ws://127.3.4.5/ws',
    'ws://localhost:9000/ws',
    'ws://[::1]:9000/ws',
  ])('unmasked: %s', (url) => {
    expect(masklessPath(url)).toBe(true);
    const key = Buffer.from([1, 2, 3, 4]);
    maskOption(url).generateMask?.(key);
    expect([...key]).toEqual([0, 0, 0, 0]);
  });

  test.each([
    'ws://colony.example.org/ws',
    'ws://10.0.0.7:8080/ws',
    'ws://127.0.0.1.example.org/ws',
    'ws://[::2]/ws',
  ])('masked with random keys (ws default): %s', (url) => {
    expect(masklessPath(url)).toBe(false);
    expect(maskOption(url)).toEqual({});
  });
});
