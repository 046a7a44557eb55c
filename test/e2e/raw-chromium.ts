/**
 * Chromium driven over the DevTools protocol directly, for what Playwright cannot show:
 * a tab really in the background. Playwright keeps every page it attaches to "visible"
 * (it emulates focus, and passes flags that turn background throttling off), so a tab
 * behind another never becomes hidden there. Here tabs are opened in one window with
 * `Target.createTarget`, the browser keeps its default throttling, and only the tabs a
 * test asks about are attached to.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import WebSocket from 'ws';

const CHROMIUM = '/usr/bin/chromium';

interface Reply {
  id?: number;
  result?: Record<string, unknown>;
  error?: { message: string };
}

export class RawChromium {
  readonly #child: ChildProcess;
  readonly #socket: WebSocket;
  readonly #profile: string;
  readonly #waiting = new Map<number, (reply: Reply) => void>();
  #nextId = 0;

  private constructor(child: ChildProcess, socket: WebSocket, profile: string) {
    this.#child = child;
    this.#socket = socket;
    this.#profile = profile;
    socket.on('message', (data) => {
      const reply = JSON.parse(String(data)) as Reply;
      if (reply.id === undefined) return;
      this.#waiting.get(reply.id)?.(reply);
      this.#waiting.delete(reply.id);
    });
  }

  /** Starts a headless Chromium with its default background throttling. */
  static async launch(): Promise<RawChromium> {
    const profile = mkdtempSync(path.join(os.tmpdir(), 'colony-chromium-'));
    const child = spawn(
      CHROMIUM,
      [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--no-first-run',
        '--disable-sync',
        '--disable-component-update',
        '--disable-background-networking',
        '--remote-debugging-port=0',
        `--user-data-dir=${profile}`,
        'about:blank',
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    child.on('error', () => undefined); // reported by the exit below
    const url = await new Promise<string>((resolve, reject) => {
      let text = '';
      child.stderr?.on('data', (chunk: Buffer) => {
        text += chunk.toString();
        const match = /DevTools listening on (ws:\S+)/.exec(text);
        if (match?.[1]) resolve(match[1]);
      });
      child.on('exit', (code) =>
        reject(new Error(`chromium exited (${code}): ${text.slice(-500)}`)),
      );
    });
    const socket = new WebSocket(url, { perMessageDeflate: false });
    await new Promise<void>((resolve, reject) => {
      socket.once('open', () => resolve());
      socket.once('error', reject);
    });
    socket.on('error', () => undefined); // the test's next call fails instead
    return new RawChromium(child, socket, profile);
  }

  async send(
    method: string,
    params: Record<string, unknown> = {},
    sessionId?: string,
  ): Promise<Record<string, unknown>> {
    const id = ++this.#nextId;
    const reply = await new Promise<Reply>((resolve) => {
      this.#waiting.set(id, resolve);
      this.#socket.send(
        JSON.stringify({
          id,
          method,
          params,
          ...(sessionId ? { sessionId } : {}),
        }),
      );
    });
    if (reply.error) throw new Error(`${method}: ${reply.error.message}`);
    return reply.result ?? {};
  }

  /** Opens a tab in the browser's one window (in front); resolves with its target id. */
  async openTab(url: string): Promise<string> {
    const { targetId } = await this.send('Target.createTarget', {
      url,
      newWindow: false,
    });
    return targetId as string;
  }

  /** Brings a tab to the front of its window (the others there become hidden). */
  async activate(targetId: string): Promise<void> {
    await this.send('Target.activateTarget', { targetId });
  }

  /** Evaluates `expression` in a tab (attached once, on first use). */
  async evaluate(targetId: string, expression: string): Promise<unknown> {
    const { sessionId } = await this.send('Target.attachToTarget', {
      targetId,
      flatten: true,
    });
    const { result } = await this.send(
      'Runtime.evaluate',
      { expression, returnByValue: true },
      sessionId as string,
    );
    await this.send('Target.detachFromTarget', { sessionId });
    return (result as { value?: unknown }).value;
  }

  async close(): Promise<void> {
    if (this.#child.exitCode === null) {
      const exited = new Promise((resolve) =>
        this.#child.once('exit', resolve),
      );
      // Browser.close ends every Chromium process (a SIGKILL of the first one leaves
      // its helpers writing to the profile); SIGKILL only if it does not answer.
      const kill = setTimeout(() => this.#child.kill('SIGKILL'), 5_000);
      this.send('Browser.close', {}).catch(() => this.#child.kill('SIGKILL'));
      await exited;
      clearTimeout(kill);
    }
    this.#socket.close();
    try {
      rmSync(this.#profile, {
        recursive: true,
        force: true,
        maxRetries: 5,
        retryDelay: 100,
      });
    } catch (error) {
      // A temporary profile left behind is not the test's concern.
      console.warn(`could not remove ${this.#profile}: ${String(error)}`);
    }
  }
}
