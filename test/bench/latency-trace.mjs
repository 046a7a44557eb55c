#!/usr/bin/env node
// Why the slow round trips are slow: the bench's latency scenario (latency-client.mjs's
// blocks, servers on core 0), run from this process (start it on core 1:
// `taskset -c 1 node test/bench/latency-trace.mjs [--rounds 5] [--blocks 20] [--block 500]`),
// with every trip's start and length kept and the master's garbage collections and
// SQLite transactions recorded by latency-trace-preload.mjs, all on one monotonic clock.
// Prints, per side, the slowest 1% of trips and what overlapped them: a GC, a commit,
// both, or neither (then the gap to the nearest of either), and the p99 with those trips
// taken out.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { ColonyClient, bundleModule } from '../../dist/client.js';
import { signedHello } from './hello.mjs';
import {
  BENCH_DIR,
  TOKEN,
  runScript,
  startMaster,
  stopChild,
  summarize,
  tempDir,
} from './lib.mjs';
import { untilIdle } from './latency.mjs';
import { answer, openFrames } from './ws-frames.mjs';

const { values } = parseArgs({
  options: {
    rounds: { type: 'string', default: '5' },
    blocks: { type: 'string', default: '20' },
    block: { type: 'string', default: '500' },
  },
});
const [rounds, blocks, block] = [
  values.rounds,
  values.blocks,
  values.block,
].map(Number);
const warmup = 3_000;
const count = warmup + rounds * blocks * block + 1;
const nowMs = () => Number(process.hrtime.bigint()) / 1e6;

const traceFile = path.join(tempDir('colony-latency-trace-'), 'trace.json');
const server = runScript('ws-server.mjs', [], { timeoutMs: 3_600_000, cpu: 0 });
const { port } = await server.waitFor((line) => line.port, 10_000);
const saved = process.env.NODE_OPTIONS;
process.env.NODE_OPTIONS = `--import ${path.join(BENCH_DIR, 'latency-trace-preload.mjs')}`;
process.env.LATENCY_TRACE_OUT = traceFile;
const master = await startMaster({ label: 'trace', cpu: 0 });
if (saved === undefined) delete process.env.NODE_OPTIONS;
else process.env.NODE_OPTIONS = saved;
delete process.env.LATENCY_TRACE_OUT;

const client = new ColonyClient({ url: master.url, token: TOKEN });
const module = await bundleModule(path.join(BENCH_DIR, 'tasks/inc.mjs'));
const colony = await openFrames(master.wsUrl);
colony.socket.send(
  signedHello(master.wsUrl, await colony.next('{"type":"challenge"')),
);
await colony.next('{"type":"welcome"');
await client.submit({
  name: 'latency-trace',
  module,
  inputs: Array.from({ length: count }, (_, i) => i),
});
let pending = colony.next('{"type":"tasks"');
colony.socket.send('{"type":"ready","credit":1}');
let last = await pending;
await untilIdle(master.cpu);

const trips = { bare: [], colony: [] };
async function colonyTrip(keep) {
  const frame = answer(last, true);
  pending = colony.next('{"type":"tasks"');
  const acks = colony.acks;
  const sentAt = nowMs();
  colony.socket.send(frame);
  last = await pending;
  if (keep) trips.colony.push([sentAt, nowMs() - sentAt, colony.acks !== acks]);
}
const bare = await openFrames(`ws://127.0.0.1:${port}/ws`);
let n = 0;
async function bareTrip(keep) {
  const frame = `{"type":"results","n":${n},"leases":[${n}],"outputs":[${n + 1}]}`;
  n++;
  const reply = bare.next('{');
  const sentAt = nowMs();
  bare.socket.send(frame);
  await reply;
  if (keep) trips.bare.push([sentAt, nowMs() - sentAt, false]);
}
for (let i = 0; i < warmup; i++) await colonyTrip(false);
for (let i = 0; i < warmup; i++) await bareTrip(false);
const perRound = [];
for (let round = 0; round < rounds; round++) {
  const from = { bare: trips.bare.length, colony: trips.colony.length };
  for (let b = 0; b < blocks; b++) {
    const bareFirst = (round * blocks + b) % 2 === 0;
    const order = bareFirst ? [bareTrip, colonyTrip] : [colonyTrip, bareTrip];
    for (const trip of order) for (let i = 0; i < block; i++) await trip(true);
  }
  perRound.push({
    bare: trips.bare.slice(from.bare),
    colony: trips.colony.slice(from.colony),
  });
}
colony.socket.send(answer(last, false));
colony.socket.close(1000);
bare.socket.terminate();
await master.stop();
await stopChild(server.child);
const { gcs, commits } = JSON.parse(readFileSync(traceFile, 'utf8'));

/** Whether any [start, duration] of `events` overlaps [from, to] (widened by `slackMs`). */
const overlaps = (events, from, to, slackMs = 0) =>
  events.some(
    ([start, ms]) => start <= to + slackMs && start + ms >= from - slackMs,
  );
const gap = (events, at) =>
  Math.min(
    ...events.map(([start, ms]) => Math.max(0, start - at, at - start - ms)),
  );

function explain(side, list) {
  const ms = list.map((t) => t[1]);
  const p99 = summarize(ms).p99;
  const slow = list.filter((t) => t[1] >= p99);
  const kinds = { gc: 0, commit: 0, both: 0, neither: 0, ack: 0 };
  const gaps = [];
  for (const [start, length, ack] of slow) {
    const g = overlaps(gcs, start, start + length);
    const c = overlaps(commits, start, start + length);
    kinds[g && c ? 'both' : g ? 'gc' : c ? 'commit' : 'neither']++;
    if (ack) kinds.ack++;
    if (!g && !c)
      gaps.push(Math.min(gap(gcs, start), gap(commits, start)).toFixed(2));
  }
  const clean = list
    .filter(([start, length]) => !overlaps(gcs, start, start + length))
    .filter(([start, length]) => !overlaps(commits, start, start + length))
    .map((t) => t[1]);
  const all = summarize(ms);
  return (
    `${side}: p50 ${all.p50.toFixed(3)} p99 ${p99.toFixed(3)} ms; slowest ${slow.length}: ` +
    `${JSON.stringify(kinds)}; p99 without gc/commit trips ${summarize(clean).p99.toFixed(3)}` +
    ` (${list.length - clean.length} trips overlapped); neither: ms to nearest event ${gaps.slice(0, 12).join(' ')}`
  );
}
for (const [k, round] of perRound.entries()) {
  const b = summarize(round.bare.map((t) => t[1]));
  const c = summarize(round.colony.map((t) => t[1]));
  console.log(
    `round ${k + 1}: p50 ${(c.p50 / b.p50).toFixed(2)}x p99 ${(c.p99 / b.p99).toFixed(2)}x`,
  );
  console.log(`  ${explain('colony', round.colony)}`);
  console.log(`  ${explain('bare', round.bare)}`);
  // Collections other than scavenges (kind 1) during the round: a mark-compact and its
  // incremental marking share the master's core for longer than one trip.
  const from = Math.min(round.colony[0][0], round.bare[0][0]);
  const to = Math.max(
    ...[round.colony.at(-1), round.bare.at(-1)].map(([s, l]) => s + l),
  );
  const major = gcs.filter(
    ([start, , kind]) => kind !== 1 && start >= from && start <= to,
  );
  if (major.length > 0)
    console.log(
      `  master GCs other than scavenges: ${major.map(([, ms, kind]) => `kind ${kind} ${ms.toFixed(2)} ms`).join(', ')}`,
    );
}
const inRun = (list) => {
  const from = perRound[0].colony[0][0];
  return list.filter(([start]) => start >= from);
};
const countBy = (list) => {
  const counts = {};
  for (const key of list) counts[key] = (counts[key] ?? 0) + 1;
  return counts;
};
const stats = (list) => summarize(list.map((e) => e[1]));
const g = inRun(gcs);
const c = inRun(commits);
const seconds = (nowMs() - perRound[0].colony[0][0]) / 1e3;
console.log(
  `master during the rounds: ${g.length} GCs (p50 ${stats(g).p50.toFixed(3)} max ${stats(g).max.toFixed(3)} ms), ` +
    `${c.length} commits (p50 ${stats(c).p50.toFixed(3)} p99 ${stats(c).p99.toFixed(3)} ms, ` +
    `rows p50 ${summarize(c.map((e) => e[2])).p50}) over ~${seconds.toFixed(1)} s; ` +
    `GC kinds ${JSON.stringify(countBy(g.map((e) => e[2])))}, new space MB ${JSON.stringify(countBy(g.map((e) => e[3])))}`,
);
process.exit(0);
