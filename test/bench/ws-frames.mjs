// A bench client's socket that hands out frames by their start: `next(prefix)` resolves
// with the next text frame that starts so (kept if it came early). Acks and standings,
// which a raw worker does not wait for, are dropped.
import WebSocket from 'ws';

const IGNORED = ['{"type":"ack"', '{"type":"standing"'];

export async function openFrames(wsUrl) {
  const socket = new WebSocket(wsUrl, { perMessageDeflate: false });
  let waiter = null;
  const early = [];
  // Acks seen so far: a round trip that saw one overlapped the master's commit.
  const frames = { socket, next: undefined, acks: 0 };
  socket.on('message', (data, isBinary) => {
    if (isBinary) return;
    const text = data.toString();
    if (text.startsWith(IGNORED[0])) frames.acks++;
    if (waiter && text.startsWith(waiter.prefix)) {
      const { resolve } = waiter;
      waiter = null;
      resolve(text);
    } else if (!IGNORED.some((prefix) => text.startsWith(prefix)))
      early.push(text);
  });
  socket.on('error', () => undefined);
  await new Promise((resolve, reject) => {
    socket.once('open', resolve);
    socket.once('error', reject);
  });
  const next = (prefix) => {
    const at = early.findIndex((text) => text.startsWith(prefix));
    if (at >= 0) return Promise.resolve(early.splice(at, 1)[0]);
    return new Promise((resolve) => {
      waiter = { prefix, resolve };
    });
  };
  frames.next = next;
  return frames;
}

/** The `results` frame answering the one task of a `tasks` frame's text (inc.mjs). */
export function answer(text, credit) {
  const [group] = JSON.parse(text).groups;
  const tail = credit ? ',"credit":1}' : '}';
  return `{"type":"results","leases":[${group.leases[0]}],"outputs":[${group.inputs[0] + 1}]${tail}`;
}
