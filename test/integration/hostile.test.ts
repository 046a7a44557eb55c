/**
 * Hostile peers against a real master process: oversized frames before `hello`, floods
 * of handshakes from one address, greedy credit, oversized outputs and names full of
 * escape sequences, each beside an honest worker whose job must come out whole.
 */
import { spawn, spawnSync } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import { describe, expect, it, onTestFinished } from 'vitest';
import {
  connect,
  resultLines,
  startWireMaster,
  submit,
  takeTasks,
  tasksOf,
  worker,
  type WirePeer,
  type WireTask,
} from '../helpers/wire.js';
import { assertTestRunning } from '../helpers/test-running.js';

const CLI = new URL('../../bin/colony.mjs', import.meta.url).pathname;
const FLOOD = new URL('../fixtures/flood.mjs', import.meta.url).pathname;

/** Reads frames until the next `tasks` frame (acks and others pass). */
async function nextTasks(peer: WirePeer): Promise<WireTask[]> {
  for (;;) {
    const frame = await peer.next();
    if (frame.type === 'tasks') return tasksOf(frame);
  }
}

/**
 * An honest worker with one task in flight: answers each task (input × 2) and measures
 * the round trip from its result to the next task, until `total` tasks are answered.
 */
async function honestRun(
  peer: WirePeer,
  total: number,
  onRound: (round: number) => void = () => undefined,
): Promise<number[]> {
  const trips: number[] = [];
  peer.send({ type: 'ready', credit: 1 });
  let [task] = await nextTasks(peer);
  for (let round = 1; task; round++) {
    onRound(round);
    const sent = performance.now();
    peer.send({
      type: 'results',
      leases: [task.lease],
      outputs: [(task.input as number) * 2],
      credit: 1,
    });
    if (round === total) break;
    [task] = await nextTasks(peer);
    trips.push(performance.now() - sent);
  }
  return trips;
}

/** Runs the flood (test/fixtures/flood.mjs) in its own process; resolves its reports. */
function flood(url: string): {
  first: Promise<{ huge: unknown; statuses: number[] }>;
  last: Promise<{ closed: number[] }>;
} {
  assertTestRunning('the flood');
  const child = spawn(process.execPath, [FLOOD, url], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  onTestFinished(() => {
    if (child.exitCode === null) child.kill('SIGKILL');
  });
  const lines = createInterface({ input: child.stdout })[
    Symbol.asyncIterator
  ]();
  const read = async <T>(): Promise<T> => {
    const { value, done } = await lines.next();
    if (done) throw new Error('the flood process ended early');
    return JSON.parse(value as string) as T;
  };
  const first = read<{ huge: unknown; statuses: number[] }>();
  const last = first.then(() => read<{ closed: number[] }>());
  return { first, last };
}

async function healthzTimes(url: string, n: number): Promise<number[]> {
  const times: number[] = [];
  for (let i = 0; i < n; i++) {
    const start = performance.now();
    const response = await fetch(`${url}/healthz`);
    expect(response.status).toBe(200);
    await response.arrayBuffer();
    times.push(performance.now() - start);
  }
  return times;
}

describe('hostile peers', () => {
  it('a 60 MB frame before hello and 100 half-open handshakes from one address: the honest worker goes on and loses nothing', async () => {
    const { url } = await startWireMaster(['--handshake-ms', '3000']);
    const total = 600;
    const inputs = Array.from({ length: total }, (_, i) => i);
    const job = await submit(url, inputs);
    const honest = await worker(url, 1);
    // The attack starts once the honest worker is warm (its first 100 round trips),
    // from another process, as a stranger's would.
    let attack: ReturnType<typeof flood> | undefined;
    let health: Promise<number[]> | undefined;
    const trips = await honestRun(honest, total, (round) => {
      if (round !== 100) return;
      attack = flood(url);
      health = healthzTimes(url, 50);
    });
    const seen = await attack!.first;
    // The honest worker kept going through the attack, and /healthz answered every time.
    // How fast (p99 under 20 ms) is measured by `npm run bench` (scenario `hostile`),
    // not here: a test's timings are the machine's, not the master's.
    expect(trips.length).toBe(total - 1);
    expect(await health!).toHaveLength(50);
    // The master sends close 1009 and cuts the socket a turn later without reading the
    // payload; a sender still writing 60 MB may see the cut (1006) before the close frame.
    const huge = seen.huge as { code: number; opened: boolean };
    expect(huge.opened).toBe(true);
    expect([1009, 1006]).toContain(huge.code);
    // 32 pending handshakes per address at most (the 60 MB sender may still hold one
    // while its TCP connection closes); the rest refused with 429.
    const admitted = seen.statuses.filter((s) => s === 101).length;
    expect(admitted).toBeGreaterThanOrEqual(31);
    expect(admitted).toBeLessThanOrEqual(32);
    expect(seen.statuses.filter((s) => s === 429)).toHaveLength(100 - admitted);
    // The silent sockets are closed at the handshake deadline.
    const { closed } = await attack!.last;
    expect(closed).toEqual(Array.from({ length: admitted }, () => 4401));
    // Nothing lost: every task's result is there, and right.
    const lines = (await resultLines(url, job)).map(
      (line) => JSON.parse(line) as { index: number; output: number },
    );
    expect(lines).toHaveLength(total);
    for (const line of lines) expect(line.output).toBe(line.index * 2);
  });

  it('a frame over 64 KiB on a dashboard socket is refused with 1009; a worker after hello may send more', async () => {
    const { url } = await startWireMaster();
    const dash = await connect(url);
    dash.send({ type: 'watch', protocol: 3 });
    dash.socket.send('x'.repeat(65 * 1024));
    expect((await dash.closed).code).toBe(1009);
    // A worker's socket is raised past 64 KiB once admitted: a 1 MiB output arrives.
    const job = await submit(url, [1], {}, 'export default () => 0;\n');
    const peer = await worker(url, 1);
    peer.send({ type: 'ready', credit: 1 });
    const [task] = await takeTasks(peer, 1);
    const big = 'y'.repeat(1024 * 1024);
    peer.send({ type: 'results', leases: [task!.lease], outputs: [big] });
    expect(await peer.expect('ack')).toEqual({ type: 'ack', count: 1 });
    const [line] = await resultLines(url, job);
    expect((JSON.parse(line!) as { output: string }).output).toBe(big);
  });

  it('a greedy credit socket beside an honest worker: both get work, the job completes', async () => {
    const { url } = await startWireMaster();
    const total = 200;
    const job = await submit(
      url,
      Array.from({ length: total }, (_, i) => i),
      { timeoutMs: 500 },
    );
    const greedy = await worker(url, 1);
    greedy.send({ type: 'ready', credit: 100_000 });
    const hoarded = await takeTasks(greedy, 2);
    expect(await greedy.fence()).toEqual([]); // 100,000 credit bought 2 tasks
    const honest = await worker(url, 1);
    // The honest worker answers everything it gets until the job is complete; the
    // greedy one never answers: its leases expire and its tasks come to the honest one.
    const answered = new Set<number>();
    honest.send({ type: 'ready', credit: 8 });
    while (answered.size < total) {
      const tasks = await nextTasks(honest);
      for (const t of tasks) answered.add(t.index);
      honest.send({
        type: 'results',
        leases: tasks.map((t) => t.lease),
        outputs: tasks.map((t) => (t.input as number) * 2),
        credit: tasks.length,
      });
    }
    expect(hoarded).toHaveLength(2);
    const lines = (await resultLines(url, job)).map(
      (line) => JSON.parse(line) as { index: number; output: number },
    );
    expect(lines).toHaveLength(total);
    for (const line of lines) expect(line.output).toBe(line.index * 2);
  });

  it('an oversized output is refused and the task retried elsewhere', async () => {
    const { url } = await startWireMaster();
    const job = await submit(url, [21], { maxOutputBytes: 1_000 });
    const liar = await worker(url, 1);
    liar.send({ type: 'ready', credit: 1 });
    const [task] = await takeTasks(liar, 1);
    const honest = await worker(url, 1);
    honest.send({ type: 'ready', credit: 1 });
    liar.send({
      type: 'results',
      leases: [task!.lease],
      outputs: ['z'.repeat(2_000)],
      credit: 1,
    });
    expect(await liar.expect('error')).toMatchObject({
      code: 'E_OUTPUT_TOO_LARGE',
    });
    const [again] = await nextTasks(honest);
    expect(again).toMatchObject({ index: 0, attempt: 2 });
    honest.send({ type: 'results', leases: [again!.lease], outputs: [42] });
    expect(await resultLines(url, job)).toEqual([
      '{"index":0,"ok":true,"output":42}',
    ]);
    // The task did not go back to the liar (its result was acked, as any is).
    expect(
      (await liar.fence()).filter((frame) => frame.type === 'tasks'),
    ).toEqual([]);
  });

  it('escape sequences are stripped from names (API and colony status) and error text', async () => {
    const { url } = await startWireMaster();
    const peer = await connect(url);
    peer.send({
      type: 'hello',
      protocol: 3,
      kind: 'node',
      slots: 1,
      name: '\u001b[2J\u001b]0;pwned\u0007evil\u202e\u2066gpj.exe\u2069\u009b',
    });
    await peer.expect('welcome');
    const workers = (await (await fetch(`${url}/api/workers`)).json()) as {
      name: string;
    }[];
    expect(workers.map((w) => w.name)).toEqual(['[2J]0;pwnedevilgpj.exe']);
    const status = spawnSync(process.execPath, [CLI, 'status', '--url', url], {
      encoding: 'utf8',
      env: { ...process.env, NO_COLOR: '1' },
    });
    expect(status.stdout).toContain('[2J]0;pwnedevilgpj.exe');
    for (const bad of [
      '\u0000',
      '\u0007',
      '\u001b',
      '\u009b',
      '\u202e',
      '\u2066',
    ])
      expect(status.stdout).not.toContain(bad);
    // A task failure's text is stripped the same way.
    const job = await submit(url, [1], { maxAttempts: 1 });
    peer.send({ type: 'ready', credit: 1 });
    const [task] = await takeTasks(peer, 1);
    peer.send({
      type: 'results',
      leases: [],
      outputs: [],
      failures: [
        {
          lease: task!.lease,
          error: 'bad\u001b[31m red\u202e\nline 2',
          kind: 'error',
        },
      ],
    });
    const [line] = await resultLines(url, job);
    expect(JSON.parse(line!)).toMatchObject({
      ok: false,
      error: 'bad[31m red\nline 2',
      code: 'E_TASK_FAILED',
    });
  });
});
