// Loaded into a `colony worker` by cold-timeline.mjs (node --import): notes the time,
// type and task count of every frame its socket sends and receives, and writes them to
// `${TIMELINE_OUT}-<pid>.json` when the process exits. Diagnostics only.
import { writeFileSync } from 'node:fs';
import WebSocket from 'ws';

const out = process.env.TIMELINE_OUT;
if (out) {
  const log = [];
  const now = () => performance.timeOrigin + performance.now();
  const leases = (text) => {
    const m = /"leases":\[([^\]]*)\]/.exec(text);
    return m?.[1] ? m[1].split(',').length : 0;
  };
  const note = (direction, data) => {
    const text = typeof data === 'string' ? data : Buffer.from(data).toString();
    const type = /"type":"(\w+)"/.exec(text)?.[1] ?? '?';
    const credit = Number(/"credit":(\d+)/.exec(text)?.[1] ?? 0);
    log.push([now(), direction, type, leases(text), credit]);
  };
  const { send, emit } = WebSocket.prototype;
  WebSocket.prototype.send = function (data, ...rest) {
    note('out', data);
    return send.call(this, data, ...rest);
  };
  WebSocket.prototype.emit = function (event, data, ...rest) {
    if (event === 'message') note('in', data);
    return emit.call(this, event, data, ...rest);
  };
  process.on('exit', () =>
    writeFileSync(`${out}-${process.pid}.json`, JSON.stringify(log)),
  );
}
