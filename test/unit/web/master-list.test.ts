import { afterEach, describe, expect, test, vi } from 'vitest';
import {
  rotatingConnect,
  volunteerSocketUrls,
} from '../../../web/src/volunteer/master-list.js';

const at = (href: string) => new URL(href) as unknown as Location;

describe('?masters= on the volunteer page', () => {
  test('the listed masters as socket URLs; bad entries skipped; none: the page’s own', () => {
    expect(
      volunteerSocketUrls(
        at(
          'https://m1.example.org/volunteer?masters=https://m2.example.org,javascript:x,nonsense,http://10.0.0.3:8080/x',
        ),
      ),
    ).toEqual(['wss://m2.example.org/ws', 'ws://10.0.0.3:8080/ws']);
    expect(volunteerSocketUrls(at('http://127.0.0.1:8080/volunteer'))).toEqual([
      'ws://127.0.0.1:8080/ws',
    ]);
  });
});

describe('rotatingConnect', () => {
  afterEach(() => {
    vi.unstubAllGlobals();
  });

  test('each attempt dials the next master, and host() names the one dialled', () => {
    const dialled: string[] = [];
    class FakeSocket {
      static OPEN = 1;
      binaryType = '';
      constructor(url: string) {
        dialled.push(url);
      }
      closed = false;
      close(): void {
        this.closed = true;
      }
    }
    vi.stubGlobal('WebSocket', FakeSocket);
    const urls = ['ws://a:1/ws', 'ws://b:2/ws', 'ws://c:3/ws'];
    const masters = rotatingConnect(urls);
    const handlers = {
      onOpen: () => undefined,
      onMessage: () => undefined,
      onClose: () => undefined,
    };
    const hosts: string[] = [];
    for (let i = 0; i < 4; i++) {
      masters.connect(handlers);
      hosts.push(masters.host());
    }
    expect(hosts).toEqual(dialled.map((url) => new URL(url).host));
    // Four attempts over three masters: every master once, then the first again.
    expect(new Set(dialled.slice(0, 3))).toEqual(new Set(urls));
    expect(dialled[3]).toBe(dialled[0]);
  });
});
