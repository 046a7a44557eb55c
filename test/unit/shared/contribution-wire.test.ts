/**
 * The wire of a volunteer's contribution: busy times ride with results (both decoders
 * agree on them), `standing` frames reach the session's status, with the job in hand.
 */
import { describe, expect, test } from 'vitest';
import {
  decodeWorkerBoundMessage,
  decodeWorkerMessage,
} from '../../../shared/protocol.js';
import { scanResultsFrame } from '../../../server/master/results-text.js';
import { toReceivedResults } from '../../../server/master/result-intake.js';
import {
  runWorkerSession,
  type Executor,
  type SessionStatus,
  type TransportHandlers,
} from '../../../shared/worker-session.js';

const results = (extra: Record<string, unknown>) =>
  JSON.stringify({
    type: 'results',
    leases: [1, 2],
    outputs: [1, 4],
    ...extra,
  });

describe('busyMs in results', () => {
  test('is accepted by the fast path and by zod alike, and reaches the scheduler per result', () => {
    const frame = results({ busyMs: [0.5, 12] });
    const decoded = decodeWorkerMessage(frame);
    expect(decoded).toMatchObject({ ok: true, value: { busyMs: [0.5, 12] } });
    const scanned = scanResultsFrame(frame);
    expect(scanned?.message.busyMs).toEqual([0.5, 12]);
    const received = toReceivedResults(
      scanned!.message,
      false,
      scanned!.outputs,
    );
    expect(received.map((r) => r.ok && r.busyMs)).toEqual([0.5, 12]);
  });

  test.each([
    ['a column of another length', [1]],
    ['a negative time', [1, -1]],
    ['a time past the bound', [1, 1e12]],
    ['a string', [1, '2']],
  ])('%s is refused', (_why, busyMs) => {
    const frame = results({ busyMs });
    expect(decodeWorkerMessage(frame).ok).toBe(false);
    expect(scanResultsFrame(frame)).toBeUndefined();
  });
});

describe('standing frames', () => {
  test('decode, and show in the session status with the job being computed', async () => {
    const standing = {
      type: 'standing',
      volunteer: '0123456789abcdef',
      tasks: 42,
      busyMs: 1500.5,
      rank: 2,
      volunteers: 7,
    };
    expect(decodeWorkerBoundMessage(JSON.stringify(standing))).toEqual({
      ok: true,
      value: standing,
    });
    expect(
      decodeWorkerBoundMessage(JSON.stringify({ ...standing, rank: 0 })).ok,
    ).toBe(false);

    let handlers: TransportHandlers | undefined;
    const sent: unknown[] = [];
    const statuses: SessionStatus[] = [];
    const executor: Executor = {
      slots: 1,
      submit: () => undefined,
      cancel: () => undefined,
      cancelAll: () => undefined,
      pending: 0,
    };
    runWorkerSession({
      connect: (h) => {
        handlers = h;
        return {
          send: (frame) => sent.push(JSON.parse(frame as string)),
          close: () => undefined,
        };
      },
      executor,
      kind: 'browser',
      prove: () => Promise.resolve({ publicKey: 'pk', signature: 'sig' }),
      clock: {
        now: () => 0,
        setTimeout: () => 0,
        clearTimeout: () => undefined,
        random: () => 0.5,
      },
      onStatus: (s) => statuses.push(s),
    });
    handlers!.onOpen();
    handlers!.onMessage(JSON.stringify({ type: 'challenge', nonce: 'n' }));
    await Promise.resolve();
    // The session asks for standing frames in its hello.
    expect(sent[0]).toMatchObject({ type: 'hello', standing: true });
    handlers!.onMessage(JSON.stringify(standing));
    expect(statuses.at(-1)?.standing).toEqual({
      volunteer: '0123456789abcdef',
      tasks: 42,
      busyMs: 1500.5,
      rank: 2,
      volunteers: 7,
    });
    handlers!.onMessage(
      JSON.stringify({
        type: 'tasks',
        jobs: { '17': { module: 'a'.repeat(64), timeoutMs: 1000, name: 'n' } },
        groups: [
          { job: '17', leases: [1], indexes: [0], attempts: [1], inputs: [0] },
        ],
      }),
    );
    expect(statuses.at(-1)).toMatchObject({ jobId: '17', jobName: 'n' });
  });
});
