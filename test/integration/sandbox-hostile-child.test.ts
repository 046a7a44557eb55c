/**
 * A sandboxed child that lies (task code runs in it): a real child process on the real
 * pipe, speaking the frames by hand. It reports ids twice, ids never handed over,
 * fractions, absurd busy times, failures and skips of ids already reported, progress of
 * ids not held, then a malformed frame. The worker's executor passes on only what it
 * handed over and still holds, each once, under the master's leases; the malformed
 * frame kills the child, whose held tasks are reported crashed.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { SandboxedExecutor } from '../../server/worker/sandbox/executor.js';
import type { TaskBatch } from '../../shared/protocol.js';
import type { Outcomes } from '../../shared/worker-session.js';
import { jobId, lease } from '../helpers/ids.js';

/**
 * Answers every `submit` (on the pipe of task thread 0, fd 4: batches and outcomes go
 * there, control messages on fd 3) with lies, then a frame whose count does not match
 * its size.
 */
const LIAR = `
const net = require('node:net');
const v8 = require('node:v8');
const pipe = new net.Socket({ fd: 4, readable: true, writable: true });
const clone = (message) => {
  const body = v8.serialize(message);
  const head = Buffer.alloc(5);
  head.writeUInt32LE(body.length + 1, 0);
  return Buffer.concat([head, body]);
};
// A done columns frame: kind 2, doubles, n, no header; ids, busy times, outputs.
const done = (n, doubles) => {
  const frame = Buffer.alloc(16 + doubles.length * 8);
  frame.writeUInt32LE(frame.length - 4, 0);
  frame[4] = 2;
  frame.writeUInt32LE(n, 8);
  doubles.forEach((v, i) => frame.writeDoubleLE(v, 16 + i * 8));
  return frame;
};
let buffered = Buffer.alloc(0);
pipe.on('data', (chunk) => {
  buffered = Buffer.concat([buffered, chunk]);
  while (buffered.length >= 4 && buffered.length >= 4 + buffered.readUInt32LE(0)) {
    const body = buffered.subarray(4, 4 + buffered.readUInt32LE(0));
    buffered = buffered.subarray(4 + body.length);
    if (body[0] !== 1) continue; // only batches (columns: indexes, attempts, inputs)
    const n = body.readUInt32LE(4);
    const at = 12 + 3 * n * 8;
    const { first: f } = JSON.parse(body.subarray(at, at + body.readUInt32LE(8)));
    const ids = [f, f, f + n, f - 1, 0, f + 0.5, -1, Number.NaN, f + 1];
    const busy = ids.map((_, i) => (i === 8 ? 1e12 : 1));
    pipe.write(done(ids.length, [...ids, ...busy, ...ids.map((_, i) => 10 + i)]));
    pipe.write(clone({ t: 'done', leases: [], outputs: [], busyMs: undefined,
      failures: [{ lease: f + 1, error: 'again', kind: 'error' }, { lease: f + n, error: 'never', kind: 'crash' }],
      skipped: [f, f + 99] }));
    pipe.write(clone({ t: 'progress', lease: f, fraction: 0.5 }));
    pipe.write(clone({ t: 'progress', lease: f + 2, fraction: 7 }));
    pipe.write(clone({ t: 'progress', lease: f + 2, fraction: 0.25 }));
    pipe.write(done(1000, [f + 2, 1, 5]));
  }
});
`;

const dir = mkdtempSync(path.join(os.tmpdir(), 'colony-liar-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('a sandboxed child that lies', () => {
  test('only held tasks are reported, each once, as their leases; a malformed frame crashes what is held', async () => {
    const script = path.join(dir, 'liar.cjs');
    writeFileSync(script, LIAR);
    const logs: string[] = [];
    const executor = new SandboxedExecutor({
      threads: 1,
      command: { command: process.execPath, args: [script], env: {}, cwd: dir },
      loadModule: () => Promise.reject(new Error('no modules here')),
      onLog: (_, message) => logs.push(message),
    });
    const told: Outcomes[] = [];
    const progress: [number, number, number][] = [];
    executor.onProgress = (l, fraction) =>
      progress.push([l, fraction, executor.pending]);
    const crashed = new Promise<void>((resolve) => {
      const batch: TaskBatch = {
        job: jobId('j1'),
        module: 'c'.repeat(64) as TaskBatch['module'],
        name: 'liar',
        timeoutMs: 60_000,
        leases: [lease(500), lease(501), lease(502)],
        indexes: [0, 1, 2],
        attempts: [1, 1, 1],
        inputs: [1, 2, 3],
      };
      executor.submit(batch, (outcomes) => {
        told.push(outcomes);
        if (outcomes.failures.some((f) => f.kind === 'crash')) resolve();
      });
    });
    try {
      await crashed;
      expect(told).toEqual([
        // Ids 1 and 2 once each (the first of each), an implausible busy time as 0.
        { leases: [500, 501], outputs: [10, 18], failures: [], busyMs: [1, 0] },
        {
          leases: [],
          outputs: [],
          failures: [
            {
              lease: 502,
              error: expect.stringMatching(/sandbox process .*ended/) as string,
              kind: 'crash',
            },
          ],
        },
      ]);
      // Progress of the one task still held, under its lease; nothing else.
      expect(progress).toEqual([[502, 0.25, 1]]);
      expect(executor.pending).toBe(0);
      expect(logs.join('\n')).toMatch(/sent a malformed frame/);
    } finally {
      await executor.close();
    }
  });
});
