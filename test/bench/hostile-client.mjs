// The honest side of the flood figure: one raw worker with credit 1 (as in the latency
// figure) answers COUNT trivial tasks; after WARM of them it starts the stranger
// (test/fixtures/flood.mjs: a 60 MB frame before hello and 100 half-open handshakes from
// this address, in its own process) and /healthz requests one after another. Round trips
// and /healthz times are kept apart: before the flood, and while it runs (until the
// flood's silent sockets are closed at the master's handshake deadline).
// Usage: node hostile-client.mjs URL TOKEN COUNT WARM; prints one JSON line.
import { spawn } from 'node:child_process';
import path from 'node:path';
import { createInterface } from 'node:readline';
import WebSocket from 'ws';
import { ColonyClient, bundleModule } from '../../dist/client.js';
import { answerChallenge } from './hello.mjs';
import { BENCH_DIR, ROOT, emit, summarize } from './lib.mjs';

const [url, token, countText, warmText] = process.argv.slice(2);
const count = Number(countText);
const warm = Number(warmText);
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
let waiter = null;
socket.on('message', (data) => {
  const text = data.toString();
  if (waiter && text.startsWith('{"type":"tasks"')) {
    const resolve = waiter;
    waiter = null;
    resolve(text);
  }
});
const nextTasks = () =>
  new Promise((resolve) => {
    waiter = resolve;
  });

/** The stranger, started once the honest worker is warm. */
function startFlood() {
  const child = spawn(
    process.execPath,
    [path.join(ROOT, 'test/fixtures/flood.mjs'), url],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  child.on('error', (error) => console.error(`flood: ${error.message}`));
  const lines = createInterface({ input: child.stdout });
  const reports = [];
  const ended = new Promise((resolve) => {
    lines.on('line', (line) => {
      reports.push(JSON.parse(line));
      if (reports.length === 2) resolve(reports);
    });
    child.on('exit', () => resolve(reports));
  });
  return { child, ended };
}

/** /healthz one request after another until `stop()`; resolves the times. */
function healthLoop() {
  const times = [];
  let running = true;
  const done = (async () => {
    while (running) {
      const start = performance.now();
      const response = await fetch(`${url}/healthz`);
      await response.arrayBuffer();
      times.push(performance.now() - start);
    }
    return times;
  })();
  return {
    stop: () => {
      running = false;
      return done;
    },
  };
}

const { id } = await client.submit({
  name: 'flood-round-trips',
  module,
  inputs: Array.from({ length: count }, (_, i) => i),
});
const quietTrips = [];
const floodTrips = [];
let flood = null;
let floodOver = false;
let quietHealth = healthLoop();
let quietHealthTimes = null;
let floodHealth = null;
let pending = nextTasks();
socket.send('{"type":"ready","credit":1}');
let sentAt = 0;
for (let n = 0; n < count; n++) {
  const text = await pending;
  const trip = performance.now() - sentAt;
  if (n > warm / 2 && n <= warm) quietTrips.push(trip);
  else if (n > warm && !floodOver) floodTrips.push(trip);
  if (n === warm) {
    quietHealthTimes = await quietHealth.stop();
    flood = startFlood();
    floodHealth = healthLoop();
    void flood.ended.then(() => {
      floodOver = true;
    });
  }
  const [group] = JSON.parse(text).groups;
  pending = n + 1 < count ? nextTasks() : null;
  sentAt = performance.now();
  socket.send(
    `{"type":"results","leases":[${group.leases[0]}],"outputs":[${group.inputs[0] + 1}]}`,
  );
  socket.send('{"type":"ready","credit":1}');
}
const reports = await flood.ended;
const floodHealthTimes = await floodHealth.stop();
flood.child.kill('SIGKILL');
let job;
for (let i = 0; i < 100; i++) {
  job = await client.job(id);
  if (job.state !== 'running') break;
  await new Promise((resolve) => setTimeout(resolve, 50));
}
socket.close(1000);
emit({
  quiet: summarize(quietTrips),
  flood: summarize(floodTrips),
  floodLasted: floodOver,
  healthQuiet: summarize(quietHealthTimes),
  healthFlood: summarize(floodHealthTimes),
  huge: reports[0]?.huge,
  statuses: reports[0]?.statuses,
  closed: reports[1]?.closed?.length ?? 0,
  state: job.state,
  done: job.counts.done,
});
