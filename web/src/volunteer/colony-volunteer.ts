import { LitElement, html, nothing } from 'lit';
import { customElement, state } from 'lit/decorators.js';
import { LIMITS } from '../../../shared/protocol.js';
import type {
  SessionStatus,
  WorkerSession,
} from '../../../shared/worker-session.js';
import type { WebWorkerExecutor } from '../runner/web-worker-executor.js';
import { openVolunteerSession } from './open-session.js';
import { windowRate, type CountSample } from '../job-math.js';
import { baseStyles } from '../ui-styles.js';
import { volunteerStyles } from './volunteer-styles.js';
import { describeBrowser } from './browser-name.js';
import { forgetToken } from '../token-store.js';
import { loadVolunteerName, saveVolunteerName } from './volunteer-name.js';
import './colony-contribution.js';
import './colony-controls.js';
import type { ControlsChange } from './colony-controls.js';
import { batterySupported, watchBattery } from './battery-watch.js';
import {
  loadSettings,
  saveSettings,
  type VolunteerSettings,
} from './settings-store.js';
import { Phase, PHASE_LABEL } from './volunteer-phase.js';
import { aboutCard, detailPanel, statsPanel } from './volunteer-panels.js';

const RATE_WINDOW_MS = 30_000;

/** "Computing" lingers this long after the last task, so the label does not flicker between tasks. */
const BUSY_LINGER_MS = 3_000;

/**
 * The volunteer page: lends this browser's CPU to the master. Start/stop, pause, the
 * controls of how much it gives (`<colony-controls>`, remembered per browser), and what
 * the tab is doing. Task code runs in module Web Workers (see
 * `runner/`), never on this page's thread; this page never holds the admin token.
 * `?autostart=1&threads=N&name=NAME` starts without a click.
 */
@customElement('colony-volunteer')
export class ColonyVolunteer extends LitElement {
  static override styles = [baseStyles, volunteerStyles];

  @state() private _running = false;
  @state() private _threads = 1;
  @state() private _settings: VolunteerSettings = loadSettings();
  @state() private _onBattery = false;
  @state() private _status: SessionStatus | null = null;
  /** Results acknowledged in earlier sessions of this page (before a stop). */
  @state() private _doneBefore = 0;
  @state() private _now = Date.now();

  private readonly _maxThreads = Math.max(
    1,
    Math.min(LIMITS.maxSlots, navigator.hardwareConcurrency || 4),
  );
  private readonly _name = describeBrowser(navigator.userAgent);
  /** The name the volunteer chose (kept in this browser), if any. */
  @state() private _chosenName = loadVolunteerName();
  private _session: WorkerSession | null = null;
  private _executor: WebWorkerExecutor | null = null;
  private _givenMs = 0;
  /** Since when it has been giving (running and not paused); 0 when not. */
  private _givingSince = 0;
  private _stopBatteryWatch: (() => void) | null = null;
  private _ticker: number | undefined;
  private _samples: CountSample[] = [];
  /** Last time this tab held a task. */
  private _busyAt = 0;

  override connectedCallback(): void {
    super.connectedCallback();
    const params = new URLSearchParams(window.location.search);
    const asked = Number.parseInt(params.get('threads') ?? '', 10);
    const kept = this._settings.threads;
    this._threads = Number.isFinite(asked)
      ? Math.min(this._maxThreads, Math.max(1, asked))
      : kept !== null
        ? Math.min(this._maxThreads, kept)
        : Math.max(1, Math.floor(this._maxThreads / 2));
    void watchBattery((onBattery) => {
      this._onBattery = onBattery;
      this._applyPause();
    }).then((stop) => {
      if (this.isConnected) this._stopBatteryWatch = stop;
      else stop?.();
    });
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
    this._stopBatteryWatch?.();
    this._stopBatteryWatch = null;
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
        ${this._hero(phase)} ${this._stats()}
        ${detailPanel(this._status, this._running, this._name, phase)}
      </section>
      <colony-contribution
        .standing=${this._status?.standing ?? null}
        .jobId=${this._status?.jobId ?? null}
        .jobName=${this._status?.jobName ?? null}
        .done=${this._doneBefore + (this._status?.done ?? 0)}
        .now=${this._now}
        .name=${this._chosenName ?? ''}
        @volunteer-name=${this._onName}
      ></colony-contribution>
      ${aboutCard(this._threads)}
    `;
  }

  /** The state, Start/Stop, Pause/Resume and the controls. */
  private _hero(phase: Phase) {
    const paused = this._settings.paused;
    return html`
      <div class="hero">
        <div class="state-row">
          <div class="state phase-${phase}" role="status" data-phase=${phase}>
            <span class="dot"></span
            ><span class="label">${this._phaseLabel(phase)}</span>
          </div>
          <div class="actions">
            ${
              this._running
                ? html`<button
                    class="big"
                    data-testid="pause"
                    aria-pressed=${paused ? 'true' : 'false'}
                    @click=${() => this._onControls({ paused: !paused })}
                  >
                    ${paused ? 'Resume' : 'Pause'}
                  </button>`
                : nothing
            }
            ${
              this._running
                ? html`<button class="big" @click=${this._stop}>Stop</button>`
                : html`<button class="big primary" @click=${this._onStart}>
                    Start
                  </button>`
            }
          </div>
        </div>
        <colony-controls
          .threads=${this._threads}
          .maxThreads=${this._maxThreads}
          .cpuShare=${this._settings.cpuShare}
          .pauseOnBattery=${this._settings.pauseOnBattery}
          .batterySupported=${batterySupported()}
          .onBattery=${this._onBattery}
          @controls-change=${(event: CustomEvent<ControlsChange>) =>
            this._onControls(event.detail)}
        ></colony-controls>
      </div>
    `;
  }

  private _phaseLabel(phase: Phase): string {
    if (phase !== Phase.Paused || this._settings.paused)
      return PHASE_LABEL[phase];
    return 'Paused: on battery';
  }

  private _stats() {
    const status = this._status;
    return statsPanel({
      jobName: status?.jobName ?? null,
      done: this._doneBefore + (status?.done ?? 0),
      givenMs:
        this._givenMs +
        (this._givingSince > 0 ? this._now - this._givingSince : 0),
      rate: windowRate(this._samples, RATE_WINDOW_MS),
    });
  }

  private _phase(): Phase {
    const s = this._status;
    if (!this._running) return Phase.Stopped;
    if (this._pausedNow()) return Phase.Paused;
    if (!s) return Phase.Connecting;
    switch (s.state) {
      case 'connecting':
        return s.lastClose ? Phase.Reconnecting : Phase.Connecting;
      case 'disconnected':
        return Phase.Reconnecting;
      case 'stopped':
        return Phase.Stopped;
      case 'paused':
        return Phase.Paused;
      case 'connected':
        return s.inFlight > 0 || this._now - this._busyAt < BUSY_LINGER_MS
          ? Phase.Computing
          : Phase.Waiting;
    }
  }

  /** A click on Start: starting means giving, so it also lifts a pause. */
  private _onStart = (): void => {
    if (this._settings.paused) this._save({ paused: false });
    this._start();
  };

  private _start = (): void => {
    if (this._running) return;
    this._running = true;
    this._now = Date.now();
    this._samples = [];
    this._applyPause();
    this._ticker = window.setInterval(this._tick, 1_000);
  };

  /** Paused by the volunteer, or on battery with "pause on battery". */
  private _pausedNow(): boolean {
    const { paused, pauseOnBattery } = this._settings;
    return paused || (pauseOnBattery && this._onBattery);
  }

  /** Brings the session in line with the pause: opened on the first resume. */
  private _applyPause(): void {
    if (!this._running) return;
    const paused = this._pausedNow();
    const now = Date.now();
    if (paused && this._givingSince > 0) {
      this._givenMs += now - this._givingSince;
      this._givingSince = 0;
    } else if (!paused && this._givingSince === 0) this._givingSince = now;
    if (paused) this._session?.pause();
    else if (this._session) this._session.resume();
    else this._openSession();
  }

  private _openSession(): void {
    const { session, executor } = openVolunteerSession({
      threads: this._threads,
      cpuShare: this._settings.cpuShare,
      name: this._nameParam() ?? this._chosenName ?? this._name,
      onStatus: (status) => {
        if (status.inFlight > 0) this._busyAt = Date.now();
        this._status = status;
      },
    });
    this._session = session;
    this._executor = executor;
  }

  private _stop = (): void => {
    if (!this._running) return;
    this._session?.stop();
    this._executor?.dispose();
    this._doneBefore += this._status?.done ?? 0;
    if (this._givingSince > 0) this._givenMs += Date.now() - this._givingSince;
    this._givingSince = 0;
    this._session = null;
    this._executor = null;
    this._status = null;
    this._running = false;
    window.clearInterval(this._ticker);
  };

  /** A control changed: remember it and apply it to the running session at once. */
  private _onControls(change: ControlsChange): void {
    if (change.threads !== undefined) {
      const threads = Math.min(this._maxThreads, Math.max(1, change.threads));
      this._threads = threads;
      this._save({ threads });
      this._session?.setThreads(threads);
    }
    if (change.cpuShare !== undefined) {
      this._save({ cpuShare: change.cpuShare });
      this._session?.setShare(change.cpuShare);
    }
    if (change.paused !== undefined || change.pauseOnBattery !== undefined) {
      this._save({
        ...(change.paused !== undefined ? { paused: change.paused } : {}),
        ...(change.pauseOnBattery !== undefined
          ? { pauseOnBattery: change.pauseOnBattery }
          : {}),
      });
      this._applyPause();
    }
  }

  private _save(patch: Partial<VolunteerSettings>): void {
    this._settings = { ...this._settings, ...patch };
    saveSettings(this._settings);
  }

  private _tick = (): void => {
    this._now = Date.now();
    const done = this._doneBefore + (this._status?.done ?? 0);
    this._samples.push({ at: this._now, count: done });
    if (this._samples.length > 120) this._samples.shift();
  };

  private _onName = (event: CustomEvent<{ name: string }>): void => {
    this._chosenName = saveVolunteerName(event.detail.name);
  };

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
