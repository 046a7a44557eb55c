/**
 * The Node worker's sandbox (SPEC §10), with real `colony worker` processes and a real
 * master: a probe task reports what it could do on the volunteer's machine in each mode.
 */
import { readFileSync, readdirSync, existsSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { describe, expect, test } from 'vitest';
import type { ResultLine } from '../../shared/job.js';
import { bundleModule } from '../../server/client/index.js';
import {
  FIXTURES,
  ROOT,
  collectResults,
  spawnColony,
  startTestMaster,
  tempDir,
  waitForOutput,
  type ChildHandle,
} from '../helpers/master.js';

const PROBE = readFileSync(path.join(FIXTURES, 'probe.mjs'), 'utf8');
const SECRET = 'the-volunteer-secret-42';

interface Probe {
  check: string;
  did: boolean;
  detail: string;
}

/** A loopback server that is not the master ("another service on this machine"). */
async function otherService(): Promise<number> {
  const server = net.createServer((socket) => socket.end());
  server.on('error', () => undefined);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as net.AddressInfo).port;
}

/** A `colony worker` as a volunteer would run it: secrets in its env and in its home. */
async function volunteerWorker(
  url: string,
  mode: string,
): Promise<{ worker: ChildHandle; home: string }> {
  const home = tempDir('colony-home-');
  writeFileSync(path.join(home, 'secret.txt'), SECRET);
  const worker = spawnColony(
    ['worker', url, '--threads', '1', '--memory-mb', '64', '--sandbox', mode],
    { HOME: home, VOLUNTEER_SECRET: SECRET, COLONY_TOKEN: 'worker-token' },
  );
  await waitForOutput(worker, (text) => /sandbox: \w+/.test(text), 'stderr');
  return { worker, home };
}

async function runProbes(mode: string): Promise<{
  probes: Map<string, Probe | string>;
  worker: ChildHandle;
  home: string;
}> {
  const master = await startTestMaster();
  const masterPort = Number(new URL(master.url).port);
  const otherPort = await otherService();
  const { worker, home } = await volunteerWorker(master.url, mode);
  const inputs = [
    { check: 'read-file', path: '/etc/passwd' },
    { check: 'read-file', path: path.join(home, 'secret.txt') },
    { check: 'write-file', path: path.join(home, 'written.txt') },
    { check: 'spawn' },
    { check: 'connect', host: '127.0.0.1', port: masterPort },
    { check: 'connect', host: '127.0.0.1', port: otherPort },
    { check: 'env', names: ['VOLUNTEER_SECRET', 'COLONY_TOKEN'] },
    { check: 'fill-tmp' },
    { check: 'exit' },
    { check: 'allocate' },
  ];
  const names = [
    'read /etc/passwd',
    'read home',
    'write home',
    'spawn',
    'connect master',
    'connect other',
    'env',
    'fill tmp',
    'exit',
    'allocate',
  ];
  const { id } = await master.client.submit({
    name: `probe-${mode}`,
    module: PROBE,
    inputs,
    options: { maxAttempts: 1 },
  });
  const results = await collectResults(master.client, id);
  const probes = new Map<string, Probe | string>();
  for (const [index, line] of results as Map<number, ResultLine>)
    probes.set(
      names[index] as string,
      line.ok ? (line.output as Probe) : `failed: ${line.error}`,
    );
  // The worker is still up and still works after all of that.
  const after = await master.client.submit({
    name: 'after',
    module: PROBE,
    inputs: [{ check: 'ok', x: 41 }],
  });
  const [last] = (await collectResults(master.client, after.id)).values();
  expect(last).toEqual({ index: 0, ok: true, output: 42 });
  expect(worker.child.exitCode).toBeNull();
  // The master shows where the worker runs task code (its hello says).
  const shown = await master.client.workers();
  expect(shown.map((w) => w.sandbox)).toEqual([mode]);
  return { probes, worker, home };
}

/** The pid of the sandbox's node process among the descendants of `root`. */
function sandboxChildPid(root: number): number | undefined {
  const parents = new Map<number, number>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      parents.set(Number(entry), ppid);
    } catch {
      // the process ended meanwhile
    }
  }
  const descends = (pid: number): boolean => {
    for (
      let at = parents.get(pid);
      at !== undefined && at > 1;
      at = parents.get(at)
    )
      if (at === root) return true;
    return false;
  };
  for (const pid of parents.keys()) {
    if (!descends(pid)) continue;
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    if (
      cmdline[0]?.endsWith('node') &&
      cmdline.some((arg) => arg.endsWith('child.js'))
    )
      return pid;
  }
  return undefined;
}

const refused = (probe: Probe | string | undefined) =>
  expect(probe).toMatchObject({ did: false });

describe('sandbox', () => {
  test('bwrap: every probe is refused (files, home, writes, processes, network, env, tmp, exit, memory) and the worker stays up', async () => {
    const { probes, worker, home } = await runProbes('bwrap');
    expect(worker.stderr()).toContain('sandbox: bwrap');
    for (const name of [
      'read /etc/passwd',
      'read home',
      'write home',
      'spawn',
      'connect master',
      'connect other',
      'env',
    ])
      refused(probes.get(name));
    expect(existsSync(path.join(home, 'written.txt'))).toBe(false);
    // /tmp is a private 64 MB tmpfs: filling it fails the write, not the worker.
    expect(probes.get('fill tmp')).toEqual({
      check: 'fill-tmp',
      did: false,
      detail: 'ENOSPC',
    });
    expect(probes.get('exit')).toMatch(/^failed: .*exit code 3/);
    expect(probes.get('allocate')).toMatch(/^failed: .*out of memory/);
  });

  test('permission: all but the network probes are refused, and the worker warns that the network is open', async () => {
    const { probes, worker, home } = await runProbes('permission');
    expect(worker.stderr()).toMatch(
      /sandbox: permission;.*\n.*warning.*network/,
    );
    for (const name of [
      'read /etc/passwd',
      'read home',
      'write home',
      'spawn',
      'env',
      'fill tmp',
    ])
      refused(probes.get(name));
    expect(probes.get('read home')).toMatchObject({
      detail: 'ERR_ACCESS_DENIED',
    });
    expect(existsSync(path.join(home, 'written.txt'))).toBe(false);
    expect(probes.get('connect master')).toMatchObject({ did: true });
    expect(probes.get('connect other')).toMatchObject({ did: true });
    expect(probes.get('exit')).toMatch(/^failed: .*exit code 3/);
    expect(probes.get('allocate')).toMatch(/^failed: .*out of memory/);
  });

  for (const mode of ['bwrap', 'permission'])
    test(`${mode}: the child's open files and address space are capped; a task that kills it is reported crashed, the child restarts`, async () => {
      const master = await startTestMaster();
      const { worker } = await volunteerWorker(master.url, mode);
      const first = await master.client.submit({
        name: 'warm-up',
        module: PROBE,
        inputs: [{ check: 'ok', x: 1 }],
      });
      await collectResults(master.client, first.id);
      const pid = sandboxChildPid(worker.child.pid as number);
      expect(pid).toBeDefined();
      const limits = readFileSync(`/proc/${pid}/limits`, 'utf8');
      expect(limits).toMatch(/Max open files\s+1024\s+1024/);
      // 2 048 MB + 1 thread x (64 MB heap + 1 024 MB)
      expect(limits).toMatch(
        new RegExp(
          `Max address space\\s+${(2_048 + 64 + 1_024) * 1024 * 1024}\\s`,
        ),
      );

      const killed = await master.client.submit({
        name: 'kill',
        module: PROBE,
        inputs: [{ check: 'kill' }],
        options: { maxAttempts: 1 },
      });
      const [line] = (await collectResults(master.client, killed.id)).values();
      expect(line).toMatchObject({ ok: false });
      // bwrap reports its child's death as its own exit status (128 + 9).
      expect((line as { error: string }).error).toMatch(
        /the sandbox process running the task ended \((signal SIGKILL|exit code 137)\)/,
      );
      const after = await master.client.submit({
        name: 'after',
        module: PROBE,
        inputs: [
          { check: 'ok', x: 1 },
          { check: 'ok', x: 2 },
        ],
      });
      const outputs = [
        ...(await collectResults(master.client, after.id)).values(),
      ]
        .sort((a, b) => a.index - b.index)
        .map((r) => (r.ok ? r.output : r.error));
      expect(outputs).toEqual([2, 3]);
      expect(worker.child.exitCode).toBeNull();
      expect(sandboxChildPid(worker.child.pid as number)).not.toBe(pid);
    });

  test('examples/primes.mjs gives the same results in every mode', async () => {
    const master = await startTestMaster();
    const module = await bundleModule(path.join(ROOT, 'examples/primes.mjs'));
    const inputs = readFileSync(
      path.join(ROOT, 'examples/primes.jsonl'),
      'utf8',
    )
      .trim()
      .split('\n')
      .slice(0, 100)
      .map((line) => JSON.parse(line) as unknown);
    const byMode = new Map<string, unknown[]>();
    for (const mode of ['auto', 'bwrap', 'permission', 'none']) {
      const worker = spawnColony([
        'worker',
        master.url,
        '--threads',
        '2',
        '--sandbox',
        mode,
        '--name',
        `primes-${mode}`,
      ]);
      const { id } = await master.client.submit({
        name: `primes-${mode}`,
        module,
        inputs,
      });
      const results = await collectResults(master.client, id);
      // `auto` is shown as the mode it picked (the last mode's worker may still be
      // leaving: this one is found by its name).
      const shown = await master.client.workers();
      expect(shown.find((w) => w.name === `primes-${mode}`)?.sandbox).toBe(
        mode === 'auto' ? 'bwrap' : mode,
      );
      byMode.set(
        mode,
        [...results.values()]
          .sort((a, b) => a.index - b.index)
          .map((r) => (r.ok ? r.output : r.error)),
      );
      worker.child.kill('SIGTERM');
      await worker.exited;
      if (mode === 'auto') expect(worker.stderr()).toContain('sandbox: bwrap');
    }
    const none = byMode.get('none') as unknown[];
    expect(none).toHaveLength(100);
    expect(none[0]).toBe(1229); // primes below 10 000
    for (const mode of ['auto', 'bwrap', 'permission'])
      expect(byMode.get(mode)).toEqual(none);
  });
});
