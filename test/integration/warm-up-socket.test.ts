/**
 * The worker's socket warm-up trades frames with itself over loopback: every round is
 * answered, and it closes what it opened (the test process would not exit otherwise).
 */
import { describe, expect, test } from 'vitest';
import { warmSocket } from '../../server/worker/warm-up-socket.js';

describe('worker socket warm-up', () => {
  test('every frame sent over loopback is answered', async () => {
    expect(await warmSocket(20)).toBe(20);
  });

  test('warm-ups at once each get their own port and all finish', async () => {
    expect(await Promise.all([warmSocket(5), warmSocket(5)])).toEqual([5, 5]);
  });
});
