// Baseline: a bare `ws` server doing the least a master does per message: parse the JSON
// request, answer one JSON frame. `hello` gets a `welcome`, anything else a `tasks`-shaped
// reply (a connection baseline also gets a challenge first). Prints {"port": N}, then serves until SIGTERM.
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import { WebSocketServer } from 'ws';
import { emit } from './lib.mjs';

const server = createServer((req, res) => {
  res.writeHead(404);
  res.end();
});
const wss = new WebSocketServer({
  server,
  path: '/ws',
  perMessageDeflate: false,
  maxPayload: 64 * 1024 * 1024,
});
wss.on('connection', (socket, request) => {
  // Connection baselines (`/ws?challenge=1`) get what a master's first frame is, so that
  // both sides of the comparison make the same round trips; rtt baselines do not.
  if (request.url?.includes('challenge=1'))
    socket.send(
      `{"type":"challenge","nonce":"${randomBytes(32).toString('base64')}"}`,
    );
  socket.on('message', (data) => {
    const message = JSON.parse(data.toString());
    if (message.type === 'hello') {
      socket.send('{"type":"welcome","workerId":"w","heartbeatMs":10000}');
      return;
    }
    socket.send(
      JSON.stringify({
        type: 'tasks',
        groups: [
          {
            job: '1',
            leases: [message.n],
            indexes: [message.n],
            attempts: [1],
            inputs: [message.n],
          },
        ],
      }),
    );
  });
  socket.on('error', () => undefined);
});
server.listen(0, '127.0.0.1', () => emit({ port: server.address().port }));
process.on('SIGTERM', () => process.exit(0));
process.on('SIGINT', () => process.exit(0));
