/**
 * Replicas against forgers, with real sockets: copies go to distinct volunteers on
 * distinct network addresses (loopback 127.0.0.x stands for several hosts), so one
 * stranger's many sockets, or many keys on one address, are one witness. Their forged
 * value is never recorded and their forged crash reports fail no task.
 */
import { describe, expect, test } from 'vitest';
import {
  collectResults,
  fixtureModule,
  startTestMaster,
} from '../helpers/master.js';
import {
  asTasks,
  connectRaw,
  hello,
  results,
  type RawOptions,
  type RawPeer,
} from '../helpers/raw-socket.js';
import { newKeys } from '../helpers/wire.js';

type Answer = (input: { x: number }) => { output: unknown } | { crash: string };

/** Joins as a worker, grants `credit` once, and answers every task it gets. */
async function serve(
  url: string,
  options: RawOptions,
  credit: number,
  answer: Answer,
  regrant: boolean,
): Promise<RawPeer> {
  const peer = await connectRaw(url, options);
  peer.send(hello({ slots: 1 }));
  expect((await peer.next()).type).toBe('welcome');
  peer.send(JSON.stringify({ type: 'ready', credit }));
  void (async () => {
    for (;;) {
      const message = await peer.next();
      if (message.type !== 'tasks') continue;
      for (const group of asTasks(message).groups) {
        group.leases.forEach((lease, k) => {
          const a = answer(group.inputs[k] as { x: number });
          const more = regrant ? { credit: 1 } : {};
          peer.send(
            'output' in a
              ? results([lease], [a.output], more)
              : results([], [], {
                  failures: [{ lease, error: a.crash, kind: 'crash' }],
                  ...more,
                }),
          );
        });
      }
    }
  })();
  return peer;
}

const honest: Answer = ({ x }) => ({ output: x * x });
const forged: Answer = () => ({ output: 'FORGED' });
const crashes: Answer = () => ({ crash: 'forged: out of memory' });

/**
 * A `replicas: 2` job of `n` tasks; the forgers join first and answer everything they
 * are given (credit granted once, so their reports are bounded), then two honest
 * volunteers on addresses of their own. Returns the results and the workers.
 */
async function scenario(forgers: RawOptions[], answer: Answer) {
  const master = await startTestMaster();
  const n = 6;
  const { id } = await master.client.submit({
    name: 'replicated',
    module: await fixtureModule('replica.mjs'),
    inputs: Array.from({ length: n }, (_, x) => ({ x })),
    options: { replicas: 2, maxAttempts: 2 },
  });
  for (const options of forgers)
    await serve(master.url, options, 2 * n, answer, false);
  await serve(master.url, { localAddress: '127.0.0.21' }, 4, honest, true);
  await serve(master.url, { localAddress: '127.0.0.22' }, 4, honest, true);
  const lines = await collectResults(master.client, id);
  const workers = await master.client.workers();
  const metrics = await (await fetch(`${master.url}/metrics`)).text();
  return { n, lines, workers, metrics };
}

describe('hostile replicas', () => {
  test('two sockets of one volunteer answering a forged value: never recorded, the honest answer is', async () => {
    const keys = newKeys();
    const { n, lines, workers } = await scenario(
      [
        { keys, localAddress: '127.0.0.11' },
        { keys, localAddress: '127.0.0.12' },
      ],
      forged,
    );
    expect(lines.size).toBe(n);
    for (const [x, line] of lines)
      expect(line).toEqual({ index: x, ok: true, output: x * x });
    // The forger's sockets are one volunteer: both show its id.
    const forgers = workers.filter(
      (w) =>
        w.address?.endsWith('127.0.0.11') || w.address?.endsWith('127.0.0.12'),
    );
    expect(forgers).toHaveLength(2);
    expect(forgers[0]?.volunteer).toMatch(/^[0-9a-f]{16}$/);
    expect(forgers[1]?.volunteer).toBe(forgers[0]?.volunteer);
  });

  test('two volunteers on one address answering a forged value: never recorded, the disagreement counted', async () => {
    const { n, lines, workers, metrics } = await scenario(
      [{ localAddress: '127.0.0.13' }, { localAddress: '127.0.0.13' }],
      forged,
    );
    expect(lines.size).toBe(n);
    for (const [x, line] of lines)
      expect(line).toEqual({ index: x, ok: true, output: x * x });
    const forgers = workers.filter((w) => w.address?.endsWith('127.0.0.13'));
    expect(forgers).toHaveLength(2);
    expect(new Set(forgers.map((w) => w.volunteer)).size).toBe(2);
    // Only one of them could vote on each task; its votes disagreed with the agreed one.
    const disagreed = forgers.reduce((sum, w) => sum + w.disagreed, 0);
    expect(disagreed).toBe(n);
    expect(forgers.reduce((sum, w) => sum + w.done, 0)).toBe(0);
    expect(metrics).toMatch(
      new RegExp(`^colony_replica_disagreements_total ${n}$`, 'm'),
    );
  });

  test('forged crash reports from three sockets of one volunteer fail no task', async () => {
    const keys = newKeys();
    const { n, lines } = await scenario(
      ['127.0.0.14', '127.0.0.15', '127.0.0.16'].map((localAddress) => ({
        keys,
        localAddress,
      })),
      crashes,
    );
    expect(lines.size).toBe(n);
    for (const [x, line] of lines)
      expect(line).toEqual({ index: x, ok: true, output: x * x });
  });

  test('forged crash reports from three volunteers on one address fail no task', async () => {
    const { n, lines } = await scenario(
      [{}, {}, {}].map(() => ({ localAddress: '127.0.0.17' })),
      crashes,
    );
    expect(lines.size).toBe(n);
    for (const [x, line] of lines)
      expect(line).toEqual({ index: x, ok: true, output: x * x });
  });
});
