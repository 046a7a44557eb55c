/**
 * Results are committed in groups a few milliseconds apart, while the scheduler knows
 * of a job's end at once. `GET /api/jobs/:id` shows a job ended only once that end is
 * committed, so a client that sees it ended and reads the results (without `follow`)
 * finds every one of them.
 */
import { expect, test } from 'vitest';
import { startWireMaster, submit, tasksOf, worker } from '../helpers/wire.js';

const TOKEN = 'wire-token-0123456789';

test('a job read as ended right after its last result has every result readable', async () => {
  const master = await startWireMaster();
  const peer = await worker(master.url);
  const headers = { authorization: `Bearer ${TOKEN}` };
  const n = 20;
  peer.send({ type: 'ready', credit: n });
  for (let round = 0; round < 20; round++) {
    const id = await submit(
      master.url,
      Array.from({ length: n }, (_, i) => i),
    );
    // A new volunteer is given a few tasks at a time: answer each frame as it comes,
    // granting again what it used.
    for (let answered = 0; answered < n;) {
      const frame = await peer.next();
      if (frame.type !== 'tasks') continue; // acks, standings
      const tasks = tasksOf(frame);
      peer.send({
        type: 'results',
        leases: tasks.map((task) => task.lease),
        outputs: tasks.map((task) => (task.input as number) * 2),
        credit: tasks.length,
      });
      answered += tasks.length;
    }
    // Straight after the last result, with no wait for its ack.
    let state = 'running';
    while (state === 'running') {
      const job = (await (
        await fetch(`${master.url}/api/jobs/${id}`, { headers })
      ).json()) as { state: string };
      state = job.state;
    }
    expect(state).toBe('completed');
    const text = await (
      await fetch(`${master.url}/api/jobs/${id}/results`, { headers })
    ).text();
    const lines = text.split('\n').filter((line) => line.length > 0);
    expect(lines).toHaveLength(n);
  }
});
