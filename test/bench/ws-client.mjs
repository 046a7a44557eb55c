// Baseline client of ws-server.mjs (run in its own process, like the colony clients):
//   rtt URL COUNT            one request in flight: round-trip times
//   pipelined URL MS WINDOW  WINDOW requests in flight for MS: requests per second
// Prints one JSON line.
import WebSocket from 'ws';
import { emit, summarize } from './lib.mjs';

const [mode, url, a, b] = process.argv.slice(2);
const socket = new WebSocket(url, { perMessageDeflate: false });
await new Promise((resolve, reject) => {
  socket.once('open', resolve);
  socket.once('error', reject);
});
let onReply = () => undefined;
socket.on('message', () => onReply());
const request = (n) =>
  socket.send(
    `{"type":"results","n":${n},"leases":[${n}],"outputs":[${n + 1}]}`,
  );

if (mode === 'rtt') {
  const count = Number(a);
  const warmup = Math.min(2_000, count);
  const samples = [];
  let n = 0;
  let sentAt = 0;
  await new Promise((resolve) => {
    onReply = () => {
      const rtt = performance.now() - sentAt;
      if (n > warmup) samples.push(rtt);
      if (n - warmup >= count) return resolve();
      sentAt = performance.now();
      request(n++);
    };
    sentAt = performance.now();
    request(n++);
  });
  const ms = summarize(samples);
  emit({ mode, ...ms, perSecond: 1000 / ms.mean });
} else if (mode === 'pipelined') {
  const durationMs = Number(a);
  const window = Number(b);
  let replies = 0;
  let n = 0;
  const started = performance.now();
  await new Promise((resolve) => {
    onReply = () => {
      replies++;
      if (performance.now() - started >= durationMs) {
        onReply = () => undefined;
        return resolve();
      }
      request(n++);
    };
    for (let i = 0; i < window; i++) request(n++);
  });
  const seconds = (performance.now() - started) / 1000;
  emit({ mode, window, perSecond: replies / seconds });
} else {
  throw new Error(`unknown mode ${mode}`);
}
socket.terminate();
