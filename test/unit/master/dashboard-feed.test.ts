/**
 * A dashboard that stops reading never makes the master buffer without bound: past
 * 1 MB buffered it skips deltas (and gets a fresh snapshot once it has drained), past
 * 16 MB it is cut off. The socket is a stand-in whose buffered amount the test sets;
 * the feed's timer runs on fake time.
 */
import { afterEach, beforeEach, describe, expect, test, vi } from 'vitest';
import type { WebSocket } from 'ws';
import { createLogger } from '../../../server/log.js';
import { DashboardFeed } from '../../../server/master/dashboard-feed.js';
import { Runtime } from '../../../server/master/runtime.js';
import { MemoryStore } from '../../../server/master/store/memory-store.js';

const PUBLISH_MS = 250;

class StandInSocket {
  readonly OPEN = 1;
  readyState = 1;
  bufferedAmount = 0;
  readonly sent: string[] = [];
  terminated = false;
  send(text: string): void {
    this.sent.push(text);
  }
  terminate(): void {
    this.terminated = true;
    this.readyState = 3;
  }
  /** Types of the messages sent since the last call. */
  take(): string[] {
    const types = this.sent.map(
      (text) => (JSON.parse(text) as { type: string }).type,
    );
    this.sent.length = 0;
    return types;
  }
}

let feed: DashboardFeed | null = null;
beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  feed?.close();
  feed = null;
  vi.useRealTimers();
});

function startFeed(): DashboardFeed {
  const runtime = new Runtime({
    store: new MemoryStore(),
    clock: { now: () => Date.now() },
    logger: createLogger('test', 'silent'),
  });
  feed = new DashboardFeed(runtime, { publishMs: PUBLISH_MS });
  return feed;
}

describe('dashboard feed and a dashboard that stops reading', () => {
  test('deltas while it keeps up; skipped past 1 MB, then a snapshot; cut off past 16 MB', () => {
    const feed = startFeed();
    const socket = new StandInSocket();
    feed.subscribe(socket as unknown as WebSocket);
    expect(socket.take()).toEqual(['snapshot']);

    vi.advanceTimersByTime(PUBLISH_MS);
    expect(socket.take()).toEqual(['delta']);

    // Behind by more than 1 MB: deltas are skipped, nothing more is queued.
    socket.bufferedAmount = 2 << 20;
    vi.advanceTimersByTime(PUBLISH_MS * 4);
    expect(socket.take()).toEqual([]);

    // Drained: what it missed comes as one fresh snapshot, then deltas again.
    socket.bufferedAmount = 0;
    vi.advanceTimersByTime(PUBLISH_MS);
    expect(socket.take()).toEqual(['snapshot']);
    vi.advanceTimersByTime(PUBLISH_MS);
    expect(socket.take()).toEqual(['delta']);

    // Past 16 MB: cut off and forgotten.
    socket.bufferedAmount = 17 << 20;
    vi.advanceTimersByTime(PUBLISH_MS);
    expect(socket.terminated).toBe(true);
    socket.bufferedAmount = 0;
    socket.readyState = 1;
    vi.advanceTimersByTime(PUBLISH_MS * 4);
    expect(socket.take()).toEqual([]);
  });
});
