/**
 * The browser's {@link Connect} for the shared worker session: one `WebSocket` per
 * attempt, binary frames as `Uint8Array`s. Reconnecting is the session's job.
 */
import type { Connect } from '../../../shared/worker-session.js';

/** Connects to `url` (`ws(s)://host/ws`) on every call. */
export function browserConnect(url: string): Connect {
  return (handlers) => {
    const socket = new WebSocket(url);
    socket.binaryType = 'arraybuffer';
    socket.onopen = () => handlers.onOpen();
    socket.onmessage = (event: MessageEvent<string | ArrayBuffer>) => {
      const data = event.data;
      handlers.onMessage(
        typeof data === 'string' ? data : new Uint8Array(data),
      );
    };
    socket.onclose = (event) => handlers.onClose(event.code, event.reason);
    return {
      send(frame) {
        // A frame sent while closing is lost anyway: the master re-queues its tasks.
        if (socket.readyState === WebSocket.OPEN) socket.send(frame);
      },
      close(code, reason) {
        socket.close(code, reason);
      },
    };
  };
}
