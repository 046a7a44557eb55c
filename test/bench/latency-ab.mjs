#!/usr/bin/env node
// A/B of the credit-1 round trip between builds, so that load cannot decide it: one
// client process rotates blocks of round trips over a bare `ws` server and one master
// per build, all started at once (servers on core 0, as in the bench), so that every
// build sees the same minutes of the shared machine. Prints, per build and per round,
// p50 and p99, their ratio to the bare round trips of that round, and the master's CPU
// per round trip (from /proc, the least load-sensitive figure). Then, per build, the
// share of round trips during which an ack came (the master committed while the answer
// was on its way) and their median and mean against the other trips': what a commit
// costs the round trip it lands in, as a difference within one run.
//
//   node test/bench/latency-ab.mjs [--rounds 5] [--blocks 10] [--block 300] NAME=ROOT...
//
// ROOT is a tree with a built dist/ (e.g. `git worktree add /tmp/old <commit>`, node_modules
// linked, `node scripts/build.mjs`); its bin/colony.mjs runs that build's master.
import path from 'node:path';
import { parseArgs } from 'node:util';
import { ColonyClient, bundleModule } from '../../dist/client.js';
import { signedHello } from './hello.mjs';
import {
  BENCH_DIR,
  TOKEN,
  procCpuSeconds,
  runScript,
  stopChild,
  summarize,
} from './lib.mjs';
import { untilIdle } from './latency.mjs';
import { answer, openFrames } from './ws-frames.mjs';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    rounds: { type: 'string', default: '5' },
    blocks: { type: 'string', default: '10' },
    block: { type: 'string', default: '300' },
  },
});
const [rounds, blocks, block] = [
  values.rounds,
  values.blocks,
  values.block,
].map(Number);
const builds = positionals.map((arg) => {
  const [name, root] = arg.split('=');
  if (!name || !root) throw new Error(`expected NAME=ROOT, got ${arg}`);
  return { name, root: path.resolve(root) };
});
if (builds.length === 0) throw new Error('name at least one NAME=ROOT');
const warmup = 3_000;
const count = warmup + rounds * blocks * block + 1;

/** A signed-in raw worker on a master holding a job of `count` trivial tasks. */
async function colonySide(master, module) {
  const commitTrips = [];
  const plainTrips = [];
  const client = new ColonyClient({ url: master.url, token: TOKEN });
  const socket = await openFrames(master.wsUrl);
  socket.socket.send(
    signedHello(master.wsUrl, await socket.next('{"type":"challenge"')),
  );
  await socket.next('{"type":"welcome"');
  const inputs = Array.from({ length: count }, (_, i) => i);
  await client.submit({ name: 'latency-ab', module, inputs });
  let pending = socket.next('{"type":"tasks"');
  socket.socket.send('{"type":"ready","credit":1}');
  let last = await pending;
  return {
    cpu: () => master.cpu(),
    commitTrips,
    plainTrips,
    async trip() {
      const frame = answer(last, true);
      pending = socket.next('{"type":"tasks"');
      const acks = socket.acks;
      const sentAt = performance.now();
      socket.socket.send(frame);
      last = await pending;
      const ms = performance.now() - sentAt;
      // An ack during the trip: the master committed while the answer was on its way.
      if (socket.acks !== acks) commitTrips.push(ms);
      else plainTrips.push(ms);
      return ms;
    },
  };
}

async function bareSide(server, port) {
  const socket = await openFrames(`ws://127.0.0.1:${port}/ws`);
  let n = 0;
  return {
    cpu: () => procCpuSeconds(server.child.pid),
    async trip() {
      const frame = `{"type":"results","n":${n},"leases":[${n}],"outputs":[${n + 1}]}`;
      n++;
      const reply = socket.next('{');
      const sentAt = performance.now();
      socket.socket.send(frame);
      await reply;
      return performance.now() - sentAt;
    },
  };
}

const server = runScript('ws-server.mjs', [], { timeoutMs: 3_600_000, cpu: 0 });
const masters = [];
try {
  const { port } = await server.waitFor((line) => line.port, 10_000);
  const module = await bundleModule(path.join(BENCH_DIR, 'tasks/inc.mjs'));
  const sides = { bare: await bareSide(server, port) };
  for (const { name, root } of builds) {
    const lib = await import(path.join(root, 'test/bench/lib.mjs'));
    const master = await lib.startMaster({ label: name, cpu: 0 });
    masters.push(master);
    sides[name] = await colonySide(master, module);
  }
  for (const master of masters) await untilIdle(master.cpu);
  const names = Object.keys(sides);
  for (const name of names) {
    for (let i = 0; i < warmup; i++) await sides[name].trip();
    sides[name].commitTrips?.splice(0);
    sides[name].plainTrips?.splice(0);
  }
  const cpu = Object.fromEntries(names.map((name) => [name, 0]));
  const pooled = Object.fromEntries(names.map((name) => [name, []]));
  const results = [];
  for (let round = 0; round < rounds; round++) {
    const samples = Object.fromEntries(names.map((name) => [name, []]));
    for (let b = 0; b < blocks; b++) {
      // Each block starts with another side: none always follows the same one.
      for (let k = 0; k < names.length; k++) {
        const name = names[(b + k + round) % names.length];
        const cpu0 = sides[name].cpu();
        for (let i = 0; i < block; i++)
          samples[name].push(await sides[name].trip());
        cpu[name] += sides[name].cpu() - cpu0;
      }
    }
    for (const name of names) pooled[name].push(...samples[name]);
    results.push(
      Object.fromEntries(names.map((name) => [name, summarize(samples[name])])),
    );
  }
  const trips = rounds * blocks * block;
  const list = (name, figure) =>
    results.map((r) => figure(r, r[name]).toFixed(3)).join(' ');
  for (const name of names) {
    console.log(
      `${name}: p50 ${list(name, (_, s) => s.p50)} ms | p99 ${list(name, (_, s) => s.p99)} ms` +
        ` | p50 vs bare ${list(name, (r, s) => s.p50 / r.bare.p50)}` +
        ` | p99 vs bare ${list(name, (r, s) => s.p99 / r.bare.p99)}` +
        ` | CPU per round trip ${((cpu[name] * 1e6) / trips).toFixed(0)} us`,
    );
  }
  // The tail's shape over all rounds: where a build's slow trips begin, against bare.
  const quantiles = [90, 95, 98, 99, 99.5, 99.9];
  const at = (sorted, q) =>
    sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * q) / 100))];
  const sorted = Object.fromEntries(
    names.map((name) => [name, [...pooled[name]].sort((a, b) => a - b)]),
  );
  for (const name of names) {
    const cells = quantiles.map((q) => {
      const ms = at(sorted[name], q);
      return `p${q} ${ms.toFixed(3)} (${(ms / at(sorted.bare, q)).toFixed(2)}x)`;
    });
    console.log(`${name} pooled: ${cells.join(' | ')}`);
  }
  // What a commit costs the round trip it lands in: trips that saw an ack against the
  // others of the same master (a difference within one run, which load hardly moves).
  for (const name of names) {
    const { commitTrips, plainTrips } = sides[name];
    if (!commitTrips) continue;
    const mean = (list) => list.reduce((a, b) => a + b, 0) / list.length;
    const med = (list) => [...list].sort((a, b) => a - b)[list.length >> 1];
    const share = commitTrips.length / (commitTrips.length + plainTrips.length);
    console.log(
      `${name}: trips with a commit ${(share * 100).toFixed(2)}%` +
        ` | median ${med(commitTrips).toFixed(3)} vs ${med(plainTrips).toFixed(3)} ms` +
        ` | mean ${mean(commitTrips).toFixed(3)} vs ${mean(plainTrips).toFixed(3)} ms`,
    );
  }
} finally {
  for (const master of masters) await master.stop();
  await stopChild(server.child);
}
process.exit(0);
