/** The README's commands, as a user types them: master, workers, submit --wait --out, status, results, cancel. */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, test } from 'vitest';
import { ColonyClient } from '../../server/client/index.js';
import {
  ROOT,
  spawnColony,
  spawnMaster,
  spawnWorker,
  freePort,
  tempDir,
  waitForResults,
} from '../helpers/master.js';

/** Resolves once the job exists and is sealed (the CLI has sent it all), watching the live feed. */
function waitUntilJob(client: ColonyClient, id: string): Promise<void> {
  return new Promise((resolve) => {
    const close = client.watch((message) => {
      if (message.jobs.some((job) => job.id === id && job.sealed)) {
        close();
        resolve();
      }
    });
  });
}

function countPrimes(from: number, to: number): number {
  let count = 0;
  outer: for (let n = Math.max(2, from); n < to; n++) {
    for (let d = 2; d * d <= n; d++) if (n % d === 0) continue outer;
    count++;
  }
  return count;
}

describe('command line', () => {
  test('submit examples/primes.mjs with streamed .jsonl inputs, --wait --out: every result correct', async () => {
    const dir = tempDir();
    const master = await spawnMaster(path.join(dir, 'data'));
    spawnWorker(master.url, 1);
    spawnWorker(master.url, 1);
    const out = path.join(dir, 'results.jsonl');
    const submit = spawnColony([
      'submit',
      'examples/primes.mjs',
      '--inputs',
      'examples/primes.jsonl',
      '--url',
      master.url,
      '--token',
      'test-token-0123456789',
      '--wait',
      '--out',
      out,
    ]);
    expect(await submit.exited).toBe(0);
    expect(submit.stderr()).toMatch(
      // The last line: how long the job took and its mean rate (never 0/s).
      /1000\/1000 \(1000 done, 0 failed\); completed in [\d.]+s \([1-9]\d*\/s\)/,
    );
    const inputs = readFileSync(
      path.join(ROOT, 'examples/primes.jsonl'),
      'utf8',
    )
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { from: number; to: number });
    const lines = readFileSync(out, 'utf8')
      .trim()
      .split('\n')
      .map(
        (line) =>
          JSON.parse(line) as { index: number; ok: boolean; output: number },
      );
    expect(lines).toHaveLength(inputs.length);
    const byIndex = new Map(lines.map((line) => [line.index, line]));
    expect(byIndex.size).toBe(inputs.length);
    // Spot-check against our own computation (all of them would take a while in a test).
    for (const index of [0, 1, 2, 499, 998, 999]) {
      const { from, to } = inputs[index] as { from: number; to: number };
      expect(byIndex.get(index)).toEqual({
        index,
        ok: true,
        output: countPrimes(from, to),
      });
    }
    expect(lines.reduce((sum, line) => sum + line.output, 0)).toBe(664_579); // primes below 10^7

    const status = spawnColony(['status', '--url', master.url]);
    expect(await status.exited).toBe(0);
    expect(status.stdout()).toMatch(
      /^1\s+primes\s+completed\s+1000\s+0\s+0\s+0\s+1000/m,
    );
    expect(status.stdout()).toMatch(/2 worker\(s\)/);

    const results = spawnColony([
      'results',
      '1',
      '--url',
      master.url,
      '--token',
      'test-token-0123456789',
    ]);
    expect(await results.exited).toBe(0);
    expect(results.stdout().trim().split('\n')).toHaveLength(1_000);
  });

  test('a failed task is a results line with its machine-readable code', async () => {
    const dir = tempDir();
    const master = await spawnMaster(path.join(dir, 'data'));
    spawnWorker(master.url, 1);
    const inputs = path.join(dir, 'inputs.json');
    writeFileSync(
      inputs,
      JSON.stringify([
        { mode: 'ok', x: 1 },
        { mode: 'throw', x: 2 },
      ]),
    );
    const out = path.join(dir, 'results.jsonl');
    const submit = spawnColony([
      'submit',
      'test/fixtures/poison.mjs',
      '--inputs',
      inputs,
      '--url',
      master.url,
      '--token',
      'test-token-0123456789',
      '--max-attempts',
      '1',
      '--wait',
      '--out',
      out,
    ]);
    expect(await submit.exited).toBe(0);
    const lines = readFileSync(out, 'utf8').trim().split('\n').sort();
    expect(lines).toEqual([
      '{"index":0,"ok":true,"output":2}',
      '{"index":1,"ok":false,"error":"poison 2","code":"E_TASK_FAILED"}',
    ]);
  });

  test('submit --wait rides out a master killed with kill -9 and restarted: every result once', async () => {
    const dir = tempDir();
    const data = path.join(dir, 'data');
    const port = await freePort();
    let master = await spawnMaster(data, ['--port', String(port)]);
    spawnWorker(master.url, 1);
    spawnWorker(master.url, 1);
    const inputs = path.join(dir, 'inputs.jsonl');
    writeFileSync(
      inputs,
      Array.from({ length: 2_000 }, (_, x) =>
        JSON.stringify({ x, spinMs: 2 }),
      ).join('\n'),
    );
    const out = path.join(dir, 'results.jsonl');
    const submit = spawnColony([
      'submit',
      'test/fixtures/square.mjs',
      '--inputs',
      inputs,
      '--url',
      master.url,
      '--token',
      'test-token-0123456789',
      '--wait',
      '--out',
      out,
    ]);
    // Kill the master once the job is under way.
    const client = new ColonyClient({
      url: master.url,
      token: 'test-token-0123456789',
    });
    await waitUntilJob(client, '1');
    await waitForResults(client, '1', 200);
    master.child.kill('SIGKILL');
    await master.exited;
    master = await spawnMaster(data, ['--port', String(port)]);
    expect(await submit.exited).toBe(0);
    expect(submit.stderr()).toMatch(/lost the master/);
    const lines = readFileSync(out, 'utf8')
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { index: number; output: number });
    expect(lines).toHaveLength(2_000);
    expect(new Set(lines.map((line) => line.index)).size).toBe(2_000);
    for (const line of lines) expect(line.output).toBe(line.index * line.index);
  }, 120_000); // two masters start (each rehearses jobs first): past 60 s on a loaded machine

  test('cancel stops a running job; bad input exits non-zero with one actionable line', async () => {
    const dir = tempDir();
    const master = await spawnMaster(path.join(dir, 'data'));
    const submit = spawnColony([
      'submit',
      'examples/primes.mjs',
      '--inputs',
      'examples/primes.jsonl',
      '--url',
      master.url,
      '--token',
      'test-token-0123456789',
    ]);
    expect(await submit.exited).toBe(0);
    const id = submit.stdout().trim();
    expect(id).toBe('1');
    const cancel = spawnColony([
      'cancel',
      id,
      '--url',
      master.url,
      '--token',
      'test-token-0123456789',
    ]);
    expect(await cancel.exited).toBe(0);
    expect(cancel.stdout()).toMatch(/^job 1 cancelled/);

    const cases: [string[], RegExp][] = [
      [
        [
          'submit',
          'examples/primes.mjs',
          '--inputs',
          'examples/primes.jsonl',
          '--url',
          master.url,
          '--token',
          'wrong',
        ],
        /the master refused this token: give the one `colony master` printed \(--token, or COLONY_TOKEN\) \[E_UNAUTHORIZED\]/,
      ],
      [
        ['submit', 'nope.mjs', '--inputs', 'examples/primes.jsonl'],
        /no such module file: nope\.mjs/,
      ],
      [['submit', 'examples/primes.mjs'], /needs --inputs/],
      [['worker', '--threads', 'many'], /--threads must be a whole number/],
      [['master', '--port', '99999'], /--port must be at most 65535/],
      [['status', '--url', 'http://127.0.0.1:1'], /cannot reach the master/],
      [['frobnicate'], /unknown command "frobnicate"/],
      [
        [
          'submit',
          'examples/primes.mjs',
          '--inputs',
          'examples/primes.jsonl',
          '--bogus',
        ],
        /Unknown option '--bogus'/,
      ],
    ];
    for (const [args, message] of cases) {
      const run = spawnColony(args);
      expect(await run.exited, args.join(' ')).not.toBe(0);
      const lines = run.stderr().trim().split('\n');
      expect(lines, args.join(' ')).toHaveLength(1);
      expect(lines[0], args.join(' ')).toMatch(message);
    }
    // No token at all (here a client without one: the CLI would also look for
    // COLONY_TOKEN and ./colony-data/token, which a developer's machine may have).
    await expect(
      new ColonyClient({ url: master.url }).cancel(id),
    ).rejects.toThrow(
      "this needs the master's token: give the one `colony master` printed (--token, or COLONY_TOKEN)",
    );
  });
});
