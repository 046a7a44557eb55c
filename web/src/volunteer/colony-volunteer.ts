import { LitElement, html, nothing } from 'lit';
import { customElement, state } from 'lit/decorators.js';
import {
  runWorkerSession,
  type SessionStatus,
  type WorkerSession,
} from '../../../shared/worker-session.js';
import { LIMITS } from '../../../shared/protocol.js';
import { browserClock } from '../runner/browser-clock.js';
import { WebWorkerExecutor } from '../runner/web-worker-executor.js';
import { rotatingConnect, volunteerSocketUrls } from './master-list.js';
import { formatCount, formatRate, formatStopwatch } from '../format.js';
import { windowRate, type CountSample } from '../job-math.js';
import { baseStyles } from '../ui-styles.js';
import { volunteerStyles } from './volunteer-styles.js';
import { spawnTaskThread } from './spawn-task-thread.js';
import { describeBrowser } from './browser-name.js';
import { forgetToken } from '../token-store.js';
import { proveHello } from '../../../shared/identity.js';
import { loadBrowserIdentity } from './identity-store.js';

const RATE_WINDOW_MS = 30_000;

/** What the page shows as its state, from the session's and the user's. */
const Phase = {
  Stopped: 'stopped',
  Connecting: 'connecting',
  Waiting: 'waiting',
  Computing: 'computing',
  Reconnecting: 'reconnecting',
} as const;
type Phase = (typeof Phase)[keyof typeof Phase];

const PHASE_LABEL: Record<Phase, string> = {
  stopped: 'Stopped',
  connecting: 'Connecting…',
  waiting: 'Waiting for work',
  computing: 'Computing',
  reconnecting: 'Reconnecting…',
};

/** "Computing" lingers this long after the last task, so the label does not flicker between tasks. */
const BUSY_LINGER_MS = 3_000;

/**
 * The volunteer page: lends this browser's CPU to the master. Start/stop, a thread
 * count, and what the tab is doing. Task code runs in module Web Workers (see
 * `runner/`), never on this page's thread; this page never holds the admin token.
 * `?autostart=1&threads=N&name=NAME` starts without a click.
 */
@customElement('colony-volunteer')
export class ColonyVolunteer extends LitElement {
  static override styles = [baseStyles, volunteerStyles];

  @state() private _running = false;
  @state() private _threads = 1;
  @state() private _status: SessionStatus | null = null;
  /** Results acknowledged in earlier sessions of this page (before a stop). */
  @state() private _doneBefore = 0;
  @state() private _now = Date.now();

  private readonly _maxThreads = Math.max(
    1,
    Math.min(LIMITS.maxSlots, navigator.hardwareConcurrency || 4),
  );
  private readonly _name = describeBrowser(navigator.userAgent);
  private _session: WorkerSession | null = null;
  private _executor: WebWorkerExecutor | null = null;
  private _givenMs = 0;
  private _startedAt = 0;
  private _ticker: number | undefined;
  private _samples: CountSample[] = [];
  /** Last time this tab held a task. */
  private _busyAt = 0;

  override connectedCallback(): void {
    super.connectedCallback();
    const params = new URLSearchParams(window.location.search);
    const asked = Number.parseInt(params.get('threads') ?? '', 10);
    this._threads = Number.isFinite(asked)
      ? Math.min(this._maxThreads, Math.max(1, asked))
      : Math.max(1, Math.floor(this._maxThreads / 2));
    // A tab that volunteers holds no admin token, even if it was a dashboard before.
    forgetToken();
    if (params.get('autostart') === '1') this._start();
    window.addEventListener('pagehide', this._onPageHide);
    window.addEventListener('pageshow', this._onPageShow);
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    window.removeEventListener('pagehide', this._onPageHide);
    window.removeEventListener('pageshow', this._onPageShow);
    this._stop();
  }

  override render() {
    const phase = this._phase();
    return html`
      <header>
        <div class="brand">
          <b>colony</b><span class="muted">volunteer</span>
        </div>
        <a href="/">Dashboard →</a>
      </header>

      <section class="card" aria-label="Volunteer">
        ${this._hero(phase)} ${this._stats()} ${this._detail(phase)}
      </section>
      ${this._about()}
    `;
  }

  /** The state, Start/Stop and the threads stepper. */
  private _hero(phase: Phase) {
    return html`
      <div class="hero">
        <div class="state-row">
          <div class="state phase-${phase}" role="status" data-phase=${phase}>
            <span class="dot"></span
            ><span class="label">${PHASE_LABEL[phase]}</span>
          </div>
          ${
            this._running
              ? html`<button class="big" @click=${this._stop}>Stop</button>`
              : html`<button class="big primary" @click=${this._start}>
                  Start
                </button>`
          }
        </div>
        <div class="threads" role="group" aria-labelledby="threads-label">
          <span class="label" id="threads-label">Threads</span>
          <span class="stepper">
            <button
              aria-label="Fewer threads"
              ?disabled=${this._threads <= 1}
              @click=${() => this._setThreads(this._threads - 1)}
            >
              −
            </button>
            <output class="num" aria-live="polite" data-testid="threads"
              >${this._threads}</output
            >
            <button
              aria-label="More threads"
              ?disabled=${this._threads >= this._maxThreads}
              @click=${() => this._setThreads(this._threads + 1)}
            >
              +
            </button>
          </span>
          <span class="hint muted"
            >of ${this._maxThreads}
            ${this._maxThreads === 1 ? 'core' : 'cores'}${
              this._running ? ' · a change restarts the session' : ''
            }</span
          >
        </div>
      </div>
    `;
  }

  private _stats() {
    const status = this._status;
    const done = this._doneBefore + (status?.done ?? 0);
    const given =
      this._givenMs + (this._running ? this._now - this._startedAt : 0);
    const rate = windowRate(this._samples, RATE_WINDOW_MS);
    const jobName = status?.jobName ?? null;
    return html`
      <div class="stats">
        <div class="stat job">
          <div class="label">Working on</div>
          <div class="value ellipsis" title=${jobName ?? ''} data-testid="job">
            ${jobName ?? html`<span class="faint">—</span>`}
          </div>
        </div>
        <div class="stat">
          <div class="label">Tasks done</div>
          <div class="value num" data-testid="done">${formatCount(done)}</div>
        </div>
        <div class="stat">
          <div class="label">Time given</div>
          <div class="value num" data-testid="given">
            ${formatStopwatch(given)}
          </div>
        </div>
        <div class="stat">
          <div class="label">Rate</div>
          <div class="value num">${formatRate(rate)}</div>
        </div>
      </div>
    `;
  }

  private _detail(phase: Phase) {
    const status = this._status;
    return html`
      <div class="detail muted">
        <span
          >Connection:
          <b data-testid="connection"
            >${status && this._running ? status.state : 'stopped'}</b
          ></span
        >
        <span class="num"
          >Tasks held: ${formatCount(status?.inFlight ?? 0)}</span
        >
        <span class="ellipsis">As: ${this._name}</span>
        ${
          status?.lastClose && phase === Phase.Reconnecting
            ? html`<span class="ellipsis"
                >Last close: ${status.lastClose}</span
              >`
            : nothing
        }
      </div>
    `;
  }

  private _about() {
    return html`
      <section class="card about">
        <p>
          While this page is open and started, it runs tasks for this colony in
          ${this._threads === 1 ? 'a background thread' : 'background threads'}
          (Web Workers). Closing the tab stops it; unfinished tasks go to
          someone else.
        </p>
        <p>
          Task code runs isolated from this page: it cannot read the page, its
          storage or any admin token, and it gets no credentials to the master's
          API.
        </p>
      </section>
    `;
  }

  private _phase(): Phase {
    const s = this._status;
    if (!this._running || !s) return Phase.Stopped;
    switch (s.state) {
      case 'connecting':
        return s.lastClose ? Phase.Reconnecting : Phase.Connecting;
      case 'disconnected':
        return Phase.Reconnecting;
      case 'stopped':
        return Phase.Stopped;
      case 'connected':
        return s.inFlight > 0 || this._now - this._busyAt < BUSY_LINGER_MS
          ? Phase.Computing
          : Phase.Waiting;
    }
  }

  private _start = (): void => {
    if (this._running) return;
    const clock = browserClock();
    const executor = new WebWorkerExecutor({
      threads: this._threads,
      spawn: spawnTaskThread,
      clock,
    });
    this._executor = executor;
    this._running = true;
    this._startedAt = Date.now();
    this._now = this._startedAt;
    this._samples = [];
    const masters = rotatingConnect(volunteerSocketUrls(window.location));
    this._session = runWorkerSession({
      connect: masters.connect,
      executor,
      kind: 'browser',
      name: this._nameParam() ?? this._name,
      // Signed for the host the socket dials (the page's own, or one of ?masters=).
      prove: async (nonce) =>
        proveHello(await loadBrowserIdentity(), masters.host(), nonce),
      clock,
      onStatus: (status) => {
        if (status.inFlight > 0) this._busyAt = Date.now();
        this._status = status;
      },
      onLog: (level, message) => {
        if (level === 'warn') console.warn(`colony: ${message}`);
      },
    });
    this._ticker = window.setInterval(this._tick, 1_000);
  };

  private _stop = (): void => {
    if (!this._running) return;
    this._session?.stop();
    this._executor?.dispose();
    this._doneBefore += this._status?.done ?? 0;
    this._givenMs += Date.now() - this._startedAt;
    this._session = null;
    this._executor = null;
    this._status = null;
    this._running = false;
    window.clearInterval(this._ticker);
  };

  private _tick = (): void => {
    this._now = Date.now();
    const done = this._doneBefore + (this._status?.done ?? 0);
    this._samples.push({ at: this._now, count: done });
    if (this._samples.length > 120) this._samples.shift();
  };

  private _setThreads(threads: number): void {
    const next = Math.min(this._maxThreads, Math.max(1, threads));
    if (next === this._threads) return;
    this._threads = next;
    // A new thread count while running restarts the session with a new pool; the
    // master re-queues whatever the old session held.
    if (this._running) {
      this._stop();
      this._start();
    }
  }

  private _nameParam(): string | null {
    const name = new URLSearchParams(window.location.search).get('name');
    return name ? name.slice(0, LIMITS.maxNameLength) : null;
  }

  /** Set when the page is hidden while running (it may come back from the bfcache). */
  private _resume = false;

  private _onPageHide = (): void => {
    this._resume = this._running;
    this._stop();
  };

  private _onPageShow = (event: PageTransitionEvent): void => {
    if (event.persisted && this._resume) this._start();
    this._resume = false;
  };
}

declare global {
  interface HTMLElementTagNameMap {
    'colony-volunteer': ColonyVolunteer;
  }
}
