import { LitElement, html, nothing } from 'lit';
import { customElement, state } from 'lit/decorators.js';
import {
  ConnectionState,
  MasterConnection,
} from '../controllers/master-connection.js';
import { orderJobs, workerTotals } from '../job-math.js';
import { formatClock, formatCount, formatRate } from '../format.js';
import { cancelJob } from '../admin-api.js';
import { fetchOlderJobs } from '../jobs-api.js';
import { forgetToken, getToken, setToken } from '../token-store.js';
import { baseStyles } from '../ui-styles.js';
import { dashboardStyles } from './dashboard-styles.js';
import type { JobCancelDetail } from './colony-job-list.js';
import type { CancelConfirmDetail } from './colony-token-dialog.js';
import './colony-job-list.js';
import './colony-worker-table.js';
import './colony-throughput-chart.js';
import './colony-event-feed.js';
import './colony-token-dialog.js';
import './colony-top-volunteers.js';

/** Jobs rendered at first; the rest are counted, and "show older" adds a page. */
const MAX_JOBS_SHOWN = 40;
const OLDER_PAGE = 50;
/** Ended jobs in the master's snapshot at most (dashboard-feed.ts): more may exist. */
const SNAPSHOT_ENDED = 200;

const LOADING = html`<div class="loading">Connecting to the master…</div>`;

/**
 * The dashboard (`/`): header tiles, jobs, workers, throughput and the event feed, all
 * live from one {@link MasterConnection}. Cancelling a job asks for the token in a
 * dialog; the token stays in this page's memory (or this tab's sessionStorage).
 */
@customElement('colony-dashboard')
export class ColonyDashboard extends LitElement {
  static override styles = [baseStyles, dashboardStyles];

  private readonly _master = new MasterConnection(this);

  @state() private _cancel: JobCancelDetail | null = null;
  @state() private _hasToken = false;
  @state() private _busy = false;
  @state() private _error = '';
  @state() private _toast = '';
  @state() private _shownLimit = MAX_JOBS_SHOWN;
  /** null until the master answered a page: then whether it has older jobs still. */
  @state() private _moreOnMaster: boolean | null = null;

  private _ticker: number | undefined;
  private _toastTimer: number | undefined;

  override connectedCallback(): void {
    super.connectedCallback();
    // Durations ("connected 3m") and the chart's time axis move on between deltas.
    this._ticker = window.setInterval(() => this.requestUpdate(), 1_000);
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    window.clearInterval(this._ticker);
    window.clearTimeout(this._toastTimer);
  }

  override render() {
    const model = this._master.model;
    // One clock reading per render: the worker table and the chart agree on `now`.
    const now = this._master.masterNow();
    const throughput = model.throughput[model.throughput.length - 1]?.rate ?? 0;
    return html`
      ${this._header()} ${this._banner()} ${this._tiles(throughput)}
      <div class="layout">
        <div class="column">${this._jobsCard()} ${this._workersCard(now)}</div>
        <div class="column">
          ${this._chartCard(throughput, now)} ${this._volunteersCard(now)}
          ${this._eventsCard()}
        </div>
      </div>
      ${this._dialog()}
      ${
        this._toast
          ? html`<div class="toast" role="status">${this._toast}</div>`
          : nothing
      }
    `;
  }

  private _header() {
    return html`<header>
      <div class="brand"><b>colony</b><span class="muted">dashboard</span></div>
      ${this._connectionBadge()}
      <a class="vol-link" href="/volunteer" target="_blank" rel="noopener"
        >Volunteer page ↗</a
      >
    </header>`;
  }

  /** While reconnecting: says so, and how old the data shown is. */
  private _banner() {
    const master = this._master;
    if (master.state !== ConnectionState.Reconnecting) return nothing;
    return html`<div class="banner" role="status">
      Connection to the master lost; reconnecting…
      ${
        master.model.loaded
          ? html`Showing data from
              <span class="num">${formatClock(master.model.at)}</span>.`
          : nothing
      }
    </div>`;
  }

  private _tiles(throughput: number) {
    const model = this._master.model;
    const totals = workerTotals(model.workers.values());
    let running = 0;
    let done = 0;
    let failed = 0;
    for (const job of model.jobs.values()) {
      if (job.state === 'running') running++;
      done += job.counts.done;
      failed += job.counts.failed;
    }
    // Before the first snapshot a dash, not a misleading zero.
    const dash = (value: string) => (model.loaded ? value : '—');
    return html`<section class="tiles" aria-label="Totals">
      <div class="card tile">
        <div class="label">Throughput</div>
        <div class="value num" data-testid="throughput">
          ${dash(formatRate(throughput))}
        </div>
        <div class="sub">tasks finished per second</div>
      </div>
      <div class="card tile">
        <div class="label">Workers</div>
        <div class="value num" data-testid="worker-count">
          ${dash(formatCount(totals.count))}
        </div>
        <div class="sub num">
          ${formatCount(totals.node)} node · ${formatCount(totals.browser)}
          browser
        </div>
      </div>
      <div class="card tile">
        <div class="label">Threads</div>
        <div class="value num">${dash(formatCount(totals.slots))}</div>
        <div class="sub num">
          ${formatCount(totals.inFlight)} tasks in flight
        </div>
      </div>
      <div class="card tile">
        <div class="label">Jobs running</div>
        <div class="value num">${dash(formatCount(running))}</div>
        <div class="sub num">${formatCount(model.jobs.size)} in total</div>
      </div>
      <div class="card tile">
        <div class="label">Tasks done</div>
        <div class="value num">${dash(formatCount(done))}</div>
        <div class="sub num">${formatCount(failed)} failed</div>
      </div>
    </section>`;
  }

  private _jobsCard() {
    const model = this._master.model;
    const { shown, hidden } = orderJobs(model.jobs.values(), this._shownLimit);
    const ended = [...model.jobs.values()].filter(
      (job) => job.state !== 'running',
    ).length;
    const moreOnMaster = this._moreOnMaster ?? ended >= SNAPSHOT_ENDED;
    return html`<section class="card" aria-labelledby="jobs-h">
      <div class="card-head">
        <h2 id="jobs-h">Jobs</h2>
        <span class="count num">${formatCount(model.jobs.size)}</span>
      </div>
      ${
        model.loaded
          ? html`<colony-job-list
              .jobs=${shown}
              .hiddenCount=${hidden}
              .moreOnMaster=${moreOnMaster}
              @job-cancel=${this._onJobCancel}
              @show-older=${this._onShowOlder}
            ></colony-job-list>`
          : LOADING
      }
    </section>`;
  }

  private _workersCard(now: number) {
    const model = this._master.model;
    const totals = workerTotals(model.workers.values());
    return html`<section class="card" aria-labelledby="workers-h">
      <div class="card-head">
        <h2 id="workers-h">Workers</h2>
        <span class="count num" data-testid="worker-summary"
          >${formatCount(totals.count)} connected · ${formatCount(totals.slots)}
          slots</span
        >
      </div>
      ${
        model.loaded
          ? html`<colony-worker-table
              .workers=${model.workers}
              .version=${model.version}
              .now=${now}
            ></colony-worker-table>`
          : LOADING
      }
    </section>`;
  }

  private _chartCard(throughput: number, now: number) {
    return html`<section class="card chart" aria-labelledby="chart-h">
      <div class="card-head">
        <h2 id="chart-h">Throughput</h2>
        <span class="rate num">${formatRate(throughput)}</span>
      </div>
      <colony-throughput-chart
        .points=${this._master.model.throughput}
        .now=${now}
      ></colony-throughput-chart>
    </section>`;
  }

  /** The volunteers who gave most (the top of GET /api/volunteers). */
  private _volunteersCard(now: number) {
    return html`<section class="card" aria-labelledby="volunteers-h">
      <div class="card-head"><h2 id="volunteers-h">Top volunteers</h2></div>
      <colony-top-volunteers
        .now=${now}
        .live=${this._master.state === ConnectionState.Live}
      ></colony-top-volunteers>
    </section>`;
  }

  private _eventsCard() {
    const model = this._master.model;
    return html`<section class="card" aria-labelledby="feed-h">
      <div class="card-head">
        <h2 id="feed-h">Events</h2>
        <span class="count num">${formatCount(model.events.length)}</span>
      </div>
      ${
        model.loaded
          ? html`<colony-event-feed
              .events=${model.events}
            ></colony-event-feed>`
          : LOADING
      }
    </section>`;
  }

  private _dialog() {
    return html`<colony-token-dialog
      .open=${this._cancel !== null}
      .jobName=${this._cancel?.name ?? ''}
      .hasToken=${this._hasToken}
      .busy=${this._busy}
      .error=${this._error}
      @cancel-confirm=${this._onConfirm}
      @cancel-dismiss=${this._onDismiss}
      @token-forget=${this._onForget}
    ></colony-token-dialog>`;
  }

  private _connectionBadge() {
    const state = this._master.state;
    const label =
      state === ConnectionState.Live
        ? 'Live'
        : state === ConnectionState.Connecting
          ? 'Connecting…'
          : 'Reconnecting…';
    return html`<span
      class="badge conn-${state}"
      data-testid="connection"
      data-state=${state}
      ><span class="dot"></span>${label}</span
    >`;
  }

  /** Shows a page more: from the jobs held, else from the master's older ones. */
  private async _onShowOlder(): Promise<void> {
    const model = this._master.model;
    const held = model.jobs.size;
    if (held > this._shownLimit) {
      this._shownLimit += OLDER_PAGE;
      return;
    }
    const ids = [...model.jobs.keys()].map(Number).filter(Number.isFinite);
    const oldest = ids.length > 0 ? String(Math.min(...ids)) : undefined;
    const page = await fetchOlderJobs(oldest, OLDER_PAGE);
    if (page === null) {
      this._showToast('Older jobs could not be loaded. Try again.');
      return;
    }
    model.addOlder(page.jobs);
    this._moreOnMaster = page.more;
    this._shownLimit = held + page.jobs.length;
  }

  private _onJobCancel(event: CustomEvent<JobCancelDetail>): void {
    this._cancel = event.detail;
    this._hasToken = getToken() !== null;
    this._error = '';
  }

  private async _onConfirm(
    event: CustomEvent<CancelConfirmDetail>,
  ): Promise<void> {
    const target = this._cancel;
    if (!target) return;
    const { token: typed, remember } = event.detail;
    if (typed !== null) setToken(typed, remember);
    const token = typed ?? getToken();
    if (token === null) {
      this._hasToken = false;
      return;
    }
    this._busy = true;
    this._error = '';
    const result = await cancelJob(target.jobId, token);
    this._busy = false;
    if (result.ok) {
      this._cancel = null;
      this._showToast(`Cancelled “${target.name}”.`);
      return;
    }
    if (result.unauthorized) {
      forgetToken();
      this._hasToken = false;
    }
    this._error = result.message;
  }

  private _onDismiss(): void {
    if (this._busy) return;
    this._cancel = null;
    this._error = '';
  }

  private _onForget(): void {
    forgetToken();
    this._hasToken = false;
  }

  private _showToast(text: string): void {
    this._toast = text;
    window.clearTimeout(this._toastTimer);
    this._toastTimer = window.setTimeout(() => {
      this._toast = '';
    }, 4_000);
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'colony-dashboard': ColonyDashboard;
  }
}
