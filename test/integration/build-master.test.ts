/**
 * `buildMaster` wires every part without a port (the jobs service and the scheduler over
 * a real SQLite file); `listen` binds the same parts to a socket.
 */
import { describe, expect, test } from 'vitest';
import { ColonyClient } from '../../server/client/index.js';
import { buildMaster } from '../../server/master/main.js';
import { ErrorCode } from '../../shared/errors.js';
import { collectResults, fixtureModule, tempDir } from '../helpers/master.js';
import {
  asTasks,
  connectRaw,
  hello,
  results as resultsFrame,
} from '../helpers/raw-socket.js';

describe('buildMaster', () => {
  test('without a port: a submitted job is scheduled, stored, and restored by the next master', async () => {
    const dataDir = tempDir();
    const module = await fixtureModule('square.mjs');
    const first = buildMaster({ dataDir, token: 't', logLevel: 'warn' });
    expect(first.server.listening).toBe(false);
    await expect(first.jobs.submit({ name: 'bad' })).rejects.toMatchObject({
      code: ErrorCode.InvalidMessage,
    });
    const { id } = await first.jobs.submit({
      name: 'three',
      module,
      inputs: [{ x: 1 }, { x: 2 }, { x: 3 }],
    });
    expect(first.runtime.scheduler.jobView(id)).toMatchObject({
      state: 'running',
      counts: { total: 3, queued: 3 },
    });
    await first.close();

    const second = buildMaster({ dataDir, token: 't', logLevel: 'warn' });
    try {
      expect(second.runtime.scheduler.jobView(id)).toMatchObject({
        spec: { name: 'three', taskCount: 3 },
        state: 'running',
        counts: { total: 3, queued: 3 },
      });
    } finally {
      await second.close();
    }
  });

  test('listen({port: 0}) serves the same parts: tasks out, acks after commit, results over HTTP', async () => {
    const master = buildMaster({
      dataDir: tempDir(),
      token: 't',
      logLevel: 'warn',
    });
    try {
      const { url, port } = await master.listen({ port: 0 });
      expect(port).toBeGreaterThan(0);
      const worker = await connectRaw(url);
      worker.send(hello());
      expect((await worker.next()).type).toBe('welcome');
      const module = await fixtureModule('square.mjs');
      const { id } = await master.jobs.submit({
        name: 'two',
        module,
        inputs: [{ x: 4 }, { x: 5 }],
      });
      worker.send('{"type":"ready","credit":2}');
      const tasks = asTasks(await worker.next());
      expect(tasks.jobs[id]).toMatchObject({ name: 'two' });
      const [group] = tasks.groups;
      expect(group).toMatchObject({ job: id, inputs: [{ x: 4 }, { x: 5 }] });
      worker.send(resultsFrame(group?.leases ?? [], [16, 25]));
      expect(await worker.next()).toEqual({ type: 'ack', count: 2 });
      const client = new ColonyClient({ url, token: master.token });
      const results = await collectResults(client, id);
      expect(results.size).toBe(2);
      expect(results.get(0)).toEqual({ index: 0, ok: true, output: 16 });
      expect(results.get(1)).toEqual({ index: 1, ok: true, output: 25 });
    } finally {
      await master.close();
    }
  });
});
