// Colony's side of the latency figure: one raw WebSocket worker with credit 1 (one task
// at a time). Submits a job of COUNT trivial tasks, then times each round trip: from
// sending `results` + `ready` to receiving the next `tasks` frame (the master's part of
// a task's cycle, what a bare `ws` request/response measures on its side).
// Usage: node latency-client.mjs URL TOKEN COUNT; prints one JSON line.
import path from 'node:path';
import WebSocket from 'ws';
import { ColonyClient, bundleModule } from '../../dist/client.js';
import { answerChallenge } from './hello.mjs';
import { BENCH_DIR, emit, summarize } from './lib.mjs';

const [url, token, countText] = process.argv.slice(2);
const count = Number(countText);
const warmup = Math.min(1_000, Math.floor(count / 5));
const client = new ColonyClient({ url, token });
const module = await bundleModule(path.join(BENCH_DIR, 'tasks/inc.mjs'));

const wsUrl = `${url.replace(/^http/, 'ws')}/ws`;
const socket = new WebSocket(wsUrl, { perMessageDeflate: false });
const hello = answerChallenge(socket, wsUrl);
await new Promise((resolve, reject) => {
  socket.once('open', resolve);
  socket.once('error', reject);
});
await hello;
const frames = [];
let waiter = null;
socket.on('message', (data, isBinary) => {
  const text = isBinary ? '' : data.toString();
  if (waiter && text.startsWith('{"type":"tasks"')) {
    const resolve = waiter;
    waiter = null;
    resolve(text);
  } else frames.push(text);
});
const nextTasks = () =>
  new Promise((resolve) => {
    waiter = resolve;
  });
const { id } = await client.submit({
  name: 'latency',
  module,
  inputs: Array.from({ length: count }, (_, i) => i),
});
let pending = nextTasks();
socket.send('{"type":"ready","credit":1}');
const samples = [];
let sentAt = 0;
for (let n = 0; n < count; n++) {
  const text = await pending;
  const receivedAt = performance.now();
  if (n > warmup) samples.push(receivedAt - sentAt);
  const [group] = JSON.parse(text).groups;
  pending = n + 1 < count ? nextTasks() : null;
  sentAt = performance.now();
  socket.send(
    `{"type":"results","leases":[${group.leases[0]}],"outputs":[${group.inputs[0] + 1}]}`,
  );
  socket.send('{"type":"ready","credit":1}');
}
// Every result recorded?
let job;
for (let i = 0; i < 100; i++) {
  job = await client.job(id);
  if (job.state !== 'running') break;
  await new Promise((resolve) => setTimeout(resolve, 50));
}
socket.close(1000);
const ms = summarize(samples);
emit({
  ...ms,
  perSecond: 1000 / ms.mean,
  state: job.state,
  done: job.counts.done,
});
