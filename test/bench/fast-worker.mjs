// Diagnostic: a raw worker that answers every task inline (no threads, no zod), to
// measure the master's own ceiling. It keeps WINDOW tasks of credit out, answers each
// task group with one `results` frame that also tops its credit up.
// Usage: node fast-worker.mjs WS_URL WINDOW; runs until SIGTERM, then prints its counts.
import WebSocket from 'ws';
import { answerChallenge } from './hello.mjs';
import { emit } from './lib.mjs';

const [url, windowText = '4096'] = process.argv.slice(2);
const window = Number(windowText);
const socket = new WebSocket(url, { perMessageDeflate: false });
const counts = { framesIn: 0, tasks: 0, framesOut: 0 };
const hello = answerChallenge(socket, url);
hello.catch((error) => {
  console.error(error.message);
  process.exit(1);
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
  const { groups } = JSON.parse(text);
  counts.framesIn++;
  for (const { leases, inputs } of groups) {
    counts.tasks += leases.length;
    const outputs = inputs.map((input) => input + 1);
    socket.send(
      `{"type":"results","leases":[${leases.join(',')}],"outputs":${JSON.stringify(outputs)},"credit":${leases.length}}`,
    );
    counts.framesOut++;
  }
});
socket.on('error', () => undefined);
process.on('SIGTERM', () => {
  emit(counts);
  process.exit(0);
});
