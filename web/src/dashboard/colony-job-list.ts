import { LitElement, css, html, nothing } from 'lit';
import { customElement, property, state } from 'lit/decorators.js';
import { repeat } from 'lit/directives/repeat.js';
import type { JobSummary } from '../../../shared/protocol.js';
import { completion, etaSeconds } from '../job-math.js';
import {
  formatCount,
  formatEta,
  formatPercent,
  formatRate,
  formatSpan,
} from '../format.js';
import { baseStyles } from '../ui-styles.js';
import './colony-job-pager.js';
import './colony-progress-bar.js';

/** Detail of the `job-cancel` event. */
export interface JobCancelDetail {
  jobId: string;
  name: string;
}

/**
 * The jobs, one row each: name and state, a stacked progress bar, counts, rate, ETA,
 * and (for running jobs) a cancel button. A job with task errors can be expanded to
 * show the error samples. Every job-supplied string is rendered as text.
 *
 * The foot of the list (older jobs, "Show older") is `<colony-job-pager>`, whose
 * `show-older` event bubbles out of this element.
 *
 * @fires job-cancel - the user asked to cancel a job; detail {@link JobCancelDetail}
 */
@customElement('colony-job-list')
export class ColonyJobList extends LitElement {
  static override styles = [
    baseStyles,
    css`
      :host {
        display: block;
      }
      ul {
        list-style: none;
        margin: 0;
        padding: 0;
      }
      li {
        border-top: 1px solid var(--c-border);
        padding: 12px 16px;
      }
      .row {
        display: grid;
        grid-template-columns: minmax(0, 1fr) 7.5em 5.5em 6em 6em;
        grid-template-areas:
          'title pct rate eta action'
          'bar pct rate eta action'
          'legend pct rate eta action';
        align-items: center;
        gap: 6px 16px;
      }
      .title {
        grid-area: title;
        display: flex;
        align-items: center;
        gap: 8px;
        min-width: 0;
      }
      .desc {
        margin: 2px 0 0;
        font-size: 12px;
      }
      .name {
        font-weight: 600;
        font-size: 14px;
        flex: 0 1 auto;
      }
      .title .badge {
        flex: none;
      }
      .bar {
        grid-area: bar;
      }
      .metric {
        text-align: right;
        line-height: 1.25;
      }
      .metric .v {
        font-weight: 600;
      }
      .metric .k {
        font-size: 11px;
        color: var(--c-faint);
        text-transform: uppercase;
        letter-spacing: 0.03em;
      }
      .pct {
        grid-area: pct;
      }
      .rate {
        grid-area: rate;
      }
      .eta {
        grid-area: eta;
      }
      .actions {
        grid-area: action;
        justify-self: end;
      }
      .breakdown {
        grid-area: legend;
        display: flex;
        flex-wrap: wrap;
        gap: 2px 14px;
        font-size: 12px;
        color: var(--c-muted);
      }
      .key {
        display: inline-flex;
        align-items: center;
        gap: 5px;
      }
      .key i {
        width: 8px;
        height: 8px;
        border-radius: 2px;
        display: inline-block;
      }
      .key.done i {
        background: var(--c-done);
      }
      .key.failed i {
        background: var(--c-failed);
      }
      .key.running i {
        background: var(--c-running);
      }
      .key.queued i {
        background: var(--c-queued);
        box-shadow: inset 0 0 0 1px var(--c-border);
      }
      .state-running {
        color: var(--c-running);
      }
      .state-completed {
        color: var(--c-done);
      }
      .state-cancelled {
        color: var(--c-faint);
      }
      button.link {
        border: none;
        background: none;
        padding: 0;
        color: var(--c-failed);
        font-size: 12px;
        font-weight: 600;
      }
      button.link:hover:not(:disabled) {
        background: none;
        text-decoration: underline;
      }
      button.cancel {
        font-size: 12px;
        padding: 4px 10px;
      }
      .errors {
        margin: 10px 0 0;
        padding: 8px 10px;
        border-radius: 8px;
        background: var(--c-surface-2);
        border: 1px solid var(--c-border);
        font-family: var(--mono);
        font-size: 12px;
        max-height: 180px;
        overflow: auto;
      }
      .errors div {
        display: grid;
        grid-template-columns: 5.5em minmax(0, 1fr);
        gap: 8px;
        padding: 2px 0;
      }
      .errors .msg {
        white-space: pre-wrap;
        word-break: break-word;
      }
      .empty {
        padding: 28px 16px 32px;
        text-align: center;
        color: var(--c-muted);
        border-top: 1px solid var(--c-border);
      }
      code {
        font-family: var(--mono);
        font-size: 12px;
        background: var(--c-surface-2);
        border: 1px solid var(--c-border);
        border-radius: 4px;
        padding: 1px 5px;
      }
      @media (max-width: 720px) {
        .row {
          grid-template-columns: repeat(3, minmax(0, 1fr)) auto;
          grid-template-areas:
            'title title title title'
            'pct rate eta action'
            'bar bar bar bar'
            'legend legend legend legend';
        }
        .metric {
          text-align: left;
        }
      }
    `,
  ];

  /** Jobs in display order. */
  @property({ attribute: false }) jobs: readonly JobSummary[] = [];
  /** Jobs left out of `jobs` (older, finished). */
  @property({ type: Number }) hiddenCount = 0;
  /** The master may have older jobs than the dashboard holds: "show older" asks it. */
  @property({ type: Boolean }) moreOnMaster = false;

  @state() private _expanded = new Set<string>();

  override render() {
    if (this.jobs.length === 0) {
      return html`<div class="empty">
        No jobs yet. Submit one with
        <code>colony submit task.js --inputs inputs.json</code>
      </div>`;
    }
    return html`<ul>
        ${repeat(
          this.jobs,
          (job) => job.id,
          (job) => this._row(job),
        )}
      </ul>
      <colony-job-pager
        .hiddenCount=${this.hiddenCount}
        .moreOnMaster=${this.moreOnMaster}
      ></colony-job-pager>`;
  }

  private _row(job: JobSummary) {
    const expanded = this._expanded.has(job.id);
    return html`<li data-job=${job.id}>
      <div class="row">
        ${this._title(job)} ${this._metrics(job)}
        <colony-progress-bar
          class="bar"
          .counts=${job.counts}
          .partial=${job.partial}
          .label=${job.name}
        ></colony-progress-bar>
        ${this._breakdown(job, expanded)}
      </div>
      ${
        job.description
          ? html`<p
              class="desc muted ellipsis"
              title=${job.description}
              .textContent=${job.description}
            ></p>`
          : nothing
      }
      ${expanded ? this._errors(job) : nothing}
    </li>`;
  }

  private _title(job: JobSummary) {
    return html`<div class="title">
      <span class="name ellipsis" title=${`${job.name} (job ${job.id})`}
        >${job.name}</span
      >
      <span class="badge state-${job.state}"
        ><span class="dot"></span>${job.state}</span
      >
      ${
        job.sealed
          ? nothing
          : html`<span class="badge" title="more inputs may be appended"
              >open</span
            >`
      }
    </div>`;
  }

  /** Completion, rate, eta (or time taken) and the cancel button. */
  private _metrics(job: JobSummary) {
    const c = job.counts;
    const eta = etaSeconds(job);
    const finished = job.state !== 'running';
    return html`<div class="metric pct">
        <div class="v num">${formatPercent(completion(c, job.partial))}</div>
        <div class="k num">
          ${formatCount(c.done + c.failed)}/${formatCount(c.total)}
        </div>
      </div>
      <div class="metric rate">
        <div class="v num">${finished ? '—' : formatRate(job.rate)}</div>
        <div class="k">rate</div>
      </div>
      <div class="metric eta">
        <div class="v num">
          ${
            finished && job.finishedAt !== null
              ? formatSpan((job.finishedAt - job.createdAt) / 1_000)
              : formatEta(eta)
          }
        </div>
        <div class="k">${finished ? 'took' : 'eta'}</div>
      </div>
      <div class="actions">
        ${
          finished
            ? nothing
            : html`<button
                class="cancel danger"
                @click=${() => this._onCancel(job)}
                aria-label=${`Cancel job ${job.name}`}
              >
                Cancel
              </button>`
        }
      </div>`;
  }

  private _breakdown(job: JobSummary, expanded: boolean) {
    const c = job.counts;
    return html`<div class="breakdown">
      <span class="key done num"><i></i>${formatCount(c.done)} done</span>
      <span class="key failed num"><i></i>${formatCount(c.failed)} failed</span>
      <span class="key running num"
        ><i></i>${formatCount(c.running)} running</span
      >
      <span class="key queued num"><i></i>${formatCount(c.queued)} queued</span>
      ${
        job.backups && job.backups.issued > 0
          ? html`<span
              class="key backups num"
              title="backup copies of stragglers at the job's tail (and how many finished first)"
              >${formatCount(job.backups.issued)} backups
              (${formatCount(job.backups.won)} won)</span
            >`
          : nothing
      }
      ${
        job.checkpoints &&
        (job.checkpoints.tasks > 0 || job.checkpoints.resumed > 0)
          ? html`<span
              class="key checkpoints num"
              title="running tasks that saved a checkpoint (and dispatches that resumed from one)"
              >${formatCount(job.checkpoints.tasks)} checkpointed
              (${formatCount(job.checkpoints.resumed)} resumed)</span
            >`
          : nothing
      }
      ${
        job.errors.length > 0
          ? html`<button
              class="link"
              aria-expanded=${expanded ? 'true' : 'false'}
              @click=${() => this._toggle(job.id)}
            >
              ${expanded ? 'Hide' : 'Show'} errors (${job.errors.length})
            </button>`
          : nothing
      }
    </div>`;
  }

  private _errors(job: JobSummary) {
    if (job.errors.length === 0) return nothing;
    return html`<div class="errors" role="list" aria-label="Error samples">
      ${job.errors.map(
        (e) =>
          html`<div role="listitem">
            <span class="faint num">task ${e.index}</span
            ><span class="msg">${e.error}</span>
          </div>`,
      )}
    </div>`;
  }

  private _toggle(jobId: string): void {
    const next = new Set(this._expanded);
    if (!next.delete(jobId)) next.add(jobId);
    this._expanded = next;
  }

  private _onCancel(job: JobSummary): void {
    this.dispatchEvent(
      new CustomEvent<JobCancelDetail>('job-cancel', {
        detail: { jobId: job.id, name: job.name },
        bubbles: true,
        composed: true,
      }),
    );
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'colony-job-list': ColonyJobList;
  }
}
