// Connections figure, the client side (its own process: each socket costs one file
// descriptor here and one in the server). Opens COUNT sockets, CONCURRENCY handshakes
// at a time, each sending `hello` and waiting for the first answer (`welcome`); then
// holds them, answering pings (ws does), and takes commands on stdin:
//   {"cmd":"extra","count":K}  open K more (past the server's limits: how do they fail?)
//   {"cmd":"close"}            close every socket and exit
// Usage: node conn-client.mjs WS_URL COUNT CONCURRENCY; prints JSON lines.
import WebSocket from 'ws';
import { signedHello } from './hello.mjs';
import { emit, onCommands } from './lib.mjs';

const [url, countText, concurrencyText = '256'] = process.argv.slice(2);
const count = Number(countText);
const concurrency = Number(concurrencyText);
const sockets = new Set();
let lost = 0;

/** One socket: resolves {ok, ms, error} once welcomed, refused or timed out. */
function open(timeoutMs = 15_000) {
  return new Promise((resolve) => {
    const started = performance.now();
    let settled = false;
    const socket = new WebSocket(url, { perMessageDeflate: false });
    const settle = (ok, error) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (ok) sockets.add(socket);
      else socket.terminate();
      resolve({ ok, error, ms: performance.now() - started });
    };
    const timer = setTimeout(() => settle(false, 'timeout'), timeoutMs);
    // The master's first frame is its challenge; the next one answers the signed hello.
    let frames = 0;
    socket.on('message', (data) => {
      if (frames++ === 0) socket.send(signedHello(url, data.toString()));
      else settle(true);
    });
    socket.on('error', (error) => settle(false, error.code ?? error.message));
    socket.on('close', (code) => {
      if (sockets.delete(socket)) lost++;
      settle(false, `closed ${code}`);
    });
  });
}

/** Opens `n` sockets with bounded concurrency; returns counts and error kinds. */
async function openMany(n, label) {
  const started = performance.now();
  let next = 0;
  let ok = 0;
  let failed = 0;
  let slowest = 0;
  const errors = {};
  const runner = async () => {
    while (next < n) {
      next++;
      const result = await open();
      slowest = Math.max(slowest, result.ms);
      if (result.ok) ok++;
      else {
        failed++;
        errors[result.error] = (errors[result.error] ?? 0) + 1;
      }
      if ((ok + failed) % 2_000 === 0)
        emit({ phase: `${label}-progress`, ok, failed });
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, n) }, runner));
  return {
    ok,
    failed,
    errors,
    slowestMs: slowest,
    ms: performance.now() - started,
    held: sockets.size,
  };
}

emit({ phase: 'opened', ...(await openMany(count, 'open')) });
onCommands(async (command) => {
  if (command.cmd === 'extra') {
    emit({ phase: 'extra', ...(await openMany(command.count, 'extra')), lost });
  } else if (command.cmd === 'status') {
    emit({ phase: 'status', held: sockets.size, lost });
  } else if (command.cmd === 'close') {
    for (const socket of sockets) socket.terminate();
    emit({ phase: 'closed', lost });
    process.exit(0);
  }
});
