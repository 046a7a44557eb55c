// Diagnostic: a raw worker that answers every task inline (no threads, no zod), to
// measure the master's own ceiling. It keeps WINDOW tasks of credit out, answers each
// `tasks` frame with one `results` frame and tops its credit up in the same turn.
// Usage: node fast-worker.mjs WS_URL WINDOW; runs until SIGTERM, then prints its counts.
import WebSocket from 'ws';
import { emit } from './lib.mjs';

const [url, windowText = '4096'] = process.argv.slice(2);
const window = Number(windowText);
const socket = new WebSocket(url, { perMessageDeflate: false });
const counts = { framesIn: 0, tasks: 0, framesOut: 0 };
socket.on('open', () => {
  socket.send(
    JSON.stringify({ type: 'hello', protocol: 1, kind: 'node', slots: 1 }),
  );
});
socket.on('message', (data, isBinary) => {
  if (isBinary) return;
  const text = data.toString();
  if (text.startsWith('{"type":"welcome"')) {
    socket.send(`{"type":"ready","credit":${window}}`);
    emit({ ready: true });
    return;
  }
  if (!text.startsWith('{"type":"tasks"')) return;
  const { tasks } = JSON.parse(text);
  counts.framesIn++;
  counts.tasks += tasks.length;
  const results = tasks.map(
    (t) =>
      `{"lease":${t.lease},"ok":true,"output":${JSON.stringify(t.input + 1)}}`,
  );
  socket.send(`{"type":"results","results":[${results.join(',')}]}`);
  socket.send(`{"type":"ready","credit":${tasks.length}}`);
  counts.framesOut += 2;
});
socket.on('error', () => undefined);
process.on('SIGTERM', () => {
  emit(counts);
  process.exit(0);
});
