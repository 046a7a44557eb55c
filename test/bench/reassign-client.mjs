// Reassignment figure: worker A (a raw socket, credit 1) holds the only task of a job;
// an idle worker B has credit; A's socket is closed; we time until B receives the task.
// MODE is `terminate` (A's process dies: TCP FIN, no close frame) or `close` (a clean
// WebSocket close, code 1000). Usage: node reassign-client.mjs URL TOKEN TRIALS MODE.
import path from 'node:path';
import WebSocket from 'ws';
import { ColonyClient, bundleModule } from '../../dist/client.js';
import { signedHello } from './hello.mjs';
import { BENCH_DIR, emit, sleep, summarize } from './lib.mjs';

const [url, token, trialsText, mode = 'terminate'] = process.argv.slice(2);
const trials = Number(trialsText);
const client = new ColonyClient({ url, token });
const module = await bundleModule(path.join(BENCH_DIR, 'tasks/inc.mjs'));
const wsUrl = `${url.replace(/^http/, 'ws')}/ws`;

/** A raw worker: resolves once welcomed; `tasks()` resolves with the next tasks frame. */
async function worker() {
  const socket = new WebSocket(wsUrl, { perMessageDeflate: false });
  const queue = [];
  const waiters = [];
  socket.on('message', (data) => {
    const message = JSON.parse(data.toString());
    const waiter = waiters.findIndex((w) => w.type === message.type);
    if (waiter >= 0) waiters.splice(waiter, 1)[0].resolve(message);
    else queue.push(message);
  });
  socket.on('error', () => undefined);
  const closed = new Promise((resolve) => socket.on('close', resolve));
  const next = (type) => {
    const at = queue.findIndex((m) => m.type === type);
    if (at >= 0) return Promise.resolve(queue.splice(at, 1)[0]);
    return new Promise((resolve) => waiters.push({ type, resolve }));
  };
  await new Promise((resolve, reject) => {
    socket.once('open', resolve);
    socket.once('error', reject);
  });
  await next('challenge').then((challenge) =>
    socket.send(signedHello(wsUrl, JSON.stringify(challenge))),
  );
  await next('welcome');
  return { socket, next, closed };
}

const samples = [];
for (let trial = 0; trial < trials; trial++) {
  const a = await worker();
  a.socket.send('{"type":"ready","credit":1}');
  const { id } = await client.submit({
    name: 'reassign',
    module,
    inputs: [trial],
  });
  const held = await a.next('tasks');
  const b = await worker();
  const bTasks = b.next('tasks');
  b.socket.send('{"type":"ready","credit":1}');
  await sleep(20); // B's credit is in the master's hands
  const started = performance.now();
  if (mode === 'close') a.socket.close(1000);
  else a.socket.terminate();
  const got = await Promise.race([bTasks, sleep(10_000).then(() => null)]);
  if (!got) throw new Error(`trial ${trial}: the task never reached B`);
  samples.push(performance.now() - started);
  const [task] = got.groups;
  if (task.indexes[0] !== held.groups[0].indexes[0] || task.job !== id)
    throw new Error(`trial ${trial}: B got another task`);
  b.socket.send(
    JSON.stringify({
      type: 'results',
      leases: [task.leases[0]],
      outputs: [task.inputs[0] + 1],
    }),
  );
  await b.next('ack');
  b.socket.close(1000);
  await Promise.all([a.closed, b.closed]);
}
emit({ mode, ...summarize(samples) });
