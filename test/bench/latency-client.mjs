// The latency figure, both sides from one process so that they see the same load: a
// raw colony worker with credit 1 (one task at a time) and a bare `ws` client of
// ws-server.mjs (request/response). Each round alternates blocks of BLOCK round trips
// of each (the order flipping every block), so that a burst of load on the shared
// machine falls on both alike; each round reports its own p50 and p99 per side.
// A colony round trip runs from sending `results` (the new credit riding on it, as a
// worker does) to receiving the next `tasks` frame: the master's part of a task's
// cycle. A bare one runs from a request to its reply (the least a server does per
// message).
// Usage: node latency-client.mjs URL TOKEN BARE_WS_URL ROUNDS BLOCKS BLOCK
// Prints one JSON line: {rounds: [{bare: {...}, colony: {...}}], warmup, count, done}.
import path from 'node:path';
import { ColonyClient, bundleModule } from '../../dist/client.js';
import { signedHello } from './hello.mjs';
import { BENCH_DIR, emit, summarize } from './lib.mjs';
import { answer, openFrames } from './ws-frames.mjs';

const [url, token, bareUrl, roundsText, blocksText, blockText] =
  process.argv.slice(2);
const rounds = Number(roundsText);
const blocks = Number(blocksText);
const block = Number(blockText);
// Enough round trips of each before measuring for both sides' code to be optimised.
const warmup = 3_000;
const count = warmup + rounds * blocks * block;

// ---- colony: a signed-in raw worker, then a job of `count` trivial tasks
const client = new ColonyClient({ url, token });
const module = await bundleModule(path.join(BENCH_DIR, 'tasks/inc.mjs'));
const colonyUrl = `${url.replace(/^http/, 'ws')}/ws`;
const colony = await openFrames(colonyUrl);
colony.socket.send(
  signedHello(colonyUrl, await colony.next('{"type":"challenge"')),
);
await colony.next('{"type":"welcome"');
const { id } = await client.submit({
  name: 'latency',
  module,
  inputs: Array.from({ length: count }, (_, i) => i),
});
let lastTasks = colony.next('{"type":"tasks"');
colony.socket.send('{"type":"ready","credit":1}');
let lastText = await lastTasks;

/** One colony round trip: answers the task held, times until the next one comes. */
async function colonyTrip() {
  const frame = answer(lastText, true);
  lastTasks = colony.next('{"type":"tasks"');
  const sentAt = performance.now();
  colony.socket.send(frame);
  lastText = await lastTasks;
  return performance.now() - sentAt;
}

// ---- bare ws
const bare = await openFrames(bareUrl);
let n = 0;
async function bareTrip() {
  const frame = `{"type":"results","n":${n},"leases":[${n}],"outputs":[${n + 1}]}`;
  n++;
  const reply = bare.next('{');
  const sentAt = performance.now();
  bare.socket.send(frame);
  await reply;
  return performance.now() - sentAt;
}

async function run(trip, times, into) {
  for (let i = 0; i < times; i++) {
    const ms = await trip();
    into?.push(ms);
  }
}

// The last task stays held (answered below), so `count - 1` trips in all.
await run(colonyTrip, warmup - 1);
await run(bareTrip, warmup);
const results = [];
for (let round = 0; round < rounds; round++) {
  const samples = { bare: [], colony: [] };
  for (let b = 0; b < blocks; b++) {
    const bareFirst = (round * blocks + b) % 2 === 0;
    const [first, second] = bareFirst ? ['bare', 'colony'] : ['colony', 'bare'];
    const trips = { bare: bareTrip, colony: colonyTrip };
    await run(trips[first], block, samples[first]);
    await run(trips[second], block, samples[second]);
  }
  results.push({
    bare: summarize(samples.bare),
    colony: summarize(samples.colony),
  });
}
// Answers the task still held: the job ends with every task done.
colony.socket.send(answer(lastText, false));
let job;
for (let i = 0; i < 100; i++) {
  job = await client.job(id);
  if (job.state !== 'running') break;
  await new Promise((resolve) => setTimeout(resolve, 50));
}
colony.socket.close(1000);
bare.socket.terminate();
emit({
  rounds: results,
  warmup,
  count,
  state: job.state,
  done: job.counts.done,
});
