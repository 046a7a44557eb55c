/**
 * Volunteers' totals: kept per identity across master restarts (a real master process
 * killed and restarted on its data dir, a real `colony worker` with an identity file),
 * listed by `GET /api/volunteers` in pages and orders, and told to each volunteer in
 * `standing` frames.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, test } from 'vitest';
import { ColonyClient } from '../../server/client/index.js';
import type { VolunteerSummary } from '../../shared/volunteers.js';
import {
  collectResults,
  fixtureModule,
  FIXTURES,
  freePort,
  spawnColony,
  spawnMaster,
  spawnWorker,
  startTestMaster,
  tempDir,
} from '../helpers/master.js';
import { connect, tasksOf, type WirePeer } from '../helpers/wire.js';

const TOKEN = 'test-token-0123456789';

async function listVolunteers(
  url: string,
  query = '',
): Promise<{ list: VolunteerSummary[]; response: Response }> {
  const response = await fetch(`${url}/api/volunteers${query}`);
  const list = (await response.json()) as VolunteerSummary[];
  return { list, response };
}

async function runSquares(
  client: ColonyClient,
  n: number,
  description?: string,
): Promise<string> {
  const module = await fixtureModule('square.mjs');
  const inputs = Array.from({ length: n }, (_, x) => ({ x, spinMs: 5 }));
  const { id } = await client.submit({
    name: 'squares',
    ...(description === undefined ? {} : { description }),
    module,
    inputs,
  });
  expect((await collectResults(client, id)).size).toBe(n);
  return id;
}

describe('volunteers', () => {
  test("a volunteer's totals survive a master restart, and grow again under the same identity", async () => {
    const dataDir = tempDir();
    const identity = path.join(tempDir(), 'identity.json');
    const args = ['--port', String(await freePort())];
    let master = await spawnMaster(dataDir, args);
    const { url } = master;
    const client = new ColonyClient({ url, token: TOKEN });
    const workerArgs = ['--identity', identity, '--name', 'alice'];
    let worker = spawnWorker(url, 1, workerArgs);

    const jobId = await runSquares(
      client,
      20,
      'Squares\u001b[31m <b>numbers</b>',
    );
    // The description is plain text, stripped of control characters.
    expect((await client.job(jobId)).description).toBe(
      'Squares[31m <b>numbers</b>',
    );
    const before = await listVolunteers(url);
    expect(before.list).toHaveLength(1);
    const [alice] = before.list as [VolunteerSummary];
    expect(alice).toMatchObject({ name: 'alice', kind: 'node', tasks: 20 });
    // Each task spun for 5 ms of its thread's time (the clock's tick aside).
    expect(alice.busyMs).toBeGreaterThanOrEqual(20 * 4);
    expect(alice.lastSeen).toBeGreaterThanOrEqual(alice.firstSeen);

    // kill -9: the totals were committed with the results that earned them.
    master.child.kill('SIGKILL');
    await master.exited;
    worker.child.kill('SIGKILL');
    await worker.exited;
    master = await spawnMaster(dataDir, args);
    expect((await listVolunteers(url)).list).toEqual([alice]);

    worker = spawnWorker(url, 1, workerArgs);
    await runSquares(client, 10);
    const after = await listVolunteers(url);
    expect(after.list).toHaveLength(1);
    expect(after.list[0]).toMatchObject({
      id: alice.id,
      tasks: 30,
      firstSeen: alice.firstSeen,
    });
    expect(after.list[0]!.busyMs).toBeGreaterThan(alice.busyMs);
    expect(after.list[0]!.lastSeen).toBeGreaterThanOrEqual(alice.lastSeen);
    // The counters count since this master started.
    const metrics = await (await fetch(`${url}/metrics`)).text();
    expect(metrics).toMatch(
      /^colony_volunteer_tasks_total\{kind="node"\} 10$/m,
    );
    const cpu =
      /^colony_volunteer_cpu_seconds_total\{kind="node"\} (\S+)$/m.exec(
        metrics,
      );
    expect(Number(cpu?.[1])).toBeGreaterThanOrEqual((10 * 4) / 1000);
  });

  test('colony submit --description keeps a one-line text description with the job', async () => {
    const master = await startTestMaster();
    const inputs = path.join(tempDir(), 'inputs.json');
    writeFileSync(inputs, JSON.stringify([{ x: 1 }]));
    const submit = spawnColony([
      'submit',
      path.join(FIXTURES, 'square.mjs'),
      '--inputs',
      inputs,
      '--description',
      'Why: \u001b]0;title\u0007<i>science</i>',
      '--url',
      master.url,
      '--token',
      master.token,
    ]);
    expect(await submit.exited).toBe(0);
    const id = submit.stdout().trim();
    expect((await master.client.job(id)).description).toBe(
      'Why: ]0;title<i>science</i>',
    );
    const tooLong = spawnColony([
      'submit',
      path.join(FIXTURES, 'square.mjs'),
      '--inputs',
      inputs,
      '--description',
      'x'.repeat(1001),
      '--url',
      master.url,
    ]);
    expect(await tooLong.exited).not.toBe(0);
    expect(tooLong.stderr()).toMatch(/--description must be at most 1000/);
  });

  test('GET /api/volunteers pages and sorts; standing frames tell each volunteer its totals', async () => {
    const master = await startTestMaster();
    const module = await fixtureModule('square.mjs');
    const { id } = await master.client.submit({
      name: 'six',
      module,
      inputs: Array.from({ length: 6 }, (_, x) => ({ x })),
      options: { backups: false },
    });
    expect(id).toBeTruthy();

    /** A volunteer that takes `n` tasks and reports each as `busyMs` of work. */
    const volunteer = async (name: string, n: number, busyMs: number) => {
      const peer = await connect(master.url);
      peer.send({
        type: 'hello',
        protocol: 3,
        kind: 'browser',
        slots: 8,
        name,
        standing: true,
      });
      await peer.expect('welcome');
      const first = await peer.expect('standing');
      expect(first).toMatchObject({ tasks: 0, busyMs: 0 });
      peer.send({ type: 'ready', credit: n });
      const tasks = tasksOf(await peer.expect('tasks'));
      expect(tasks).toHaveLength(n);
      peer.send({
        type: 'results',
        leases: tasks.map((t) => t.lease),
        outputs: tasks.map(() => 0),
        busyMs: tasks.map(() => busyMs),
      });
      await peer.expect('ack');
      return peer;
    };
    const a = await volunteer('a', 3, 1);
    const b = await volunteer('b', 1, 0.25);
    await volunteer('c', 2, 0);

    const byTasks = await listVolunteers(master.url, '?sort=tasks');
    expect(byTasks.list.map((v) => [v.name, v.tasks])).toEqual([
      ['a', 3],
      ['c', 2],
      ['b', 1],
    ]);
    expect(byTasks.response.headers.get('x-total-count')).toBe('3');
    // Busy time is bounded by how long each lease was out, so compare orders only.
    const byCpu = await listVolunteers(master.url, '?sort=cpu');
    const busy = byCpu.list.map((v) => v.busyMs);
    expect([...busy].sort((x, y) => y - x)).toEqual(busy);
    expect(byCpu.list.at(-1)).toMatchObject({ name: 'c', busyMs: 0 });
    const bySeen = await listVolunteers(master.url, '?sort=lastSeen');
    const seen = bySeen.list.map((v) => v.lastSeen);
    expect([...seen].sort((x, y) => y - x)).toEqual(seen);

    const page1 = await listVolunteers(master.url, '?sort=tasks&limit=2');
    expect(page1.list.map((v) => v.name)).toEqual(['a', 'c']);
    const next = page1.response.headers.get('link');
    expect(next).toBe(
      '</api/volunteers?sort=tasks&limit=2&offset=2>; rel="next"',
    );
    const page2 = await listVolunteers(
      master.url,
      '?sort=tasks&limit=2&offset=2',
    );
    expect(page2.list.map((v) => v.name)).toEqual(['b']);
    expect(page2.response.headers.get('link')).toBeNull();

    for (const bad of [
      '?sort=name',
      '?limit=0',
      '?limit=100000',
      '?offset=-1',
    ]) {
      const response = await fetch(`${master.url}/api/volunteers${bad}`);
      expect(response.status, bad).toBe(400);
    }

    // Each volunteer hears its totals and rank while they change.
    const standingOf = async (peer: WirePeer) => {
      for (;;) {
        const frame = await peer.next();
        if (frame.type === 'standing' && frame.tasks !== 0) return frame;
      }
    };
    // (Others may or may not have been credited yet when a frame went out.)
    expect(await standingOf(a)).toMatchObject({ tasks: 3, rank: 1 });
    expect(await standingOf(b)).toMatchObject({ tasks: 1 });
  });
});
