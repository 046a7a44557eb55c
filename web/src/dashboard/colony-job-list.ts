import { LitElement, css, html, nothing } from 'lit';
import { customElement, property, state } from 'lit/decorators.js';
import { repeat } from 'lit/directives/repeat.js';
import type { JobSummary } from '../../../shared/protocol.js';
import { baseStyles } from '../ui-styles.js';
import {
  jobBreakdown,
  jobErrors,
  jobMetrics,
  jobTitle,
} from './job-row-parts.js';
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
        ${jobTitle(job)} ${jobMetrics(job, this._onCancel)}
        <colony-progress-bar
          class="bar"
          .counts=${job.counts}
          .partial=${job.partial}
          .label=${job.name}
        ></colony-progress-bar>
        ${jobBreakdown(job, expanded, this._toggle)}
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
      ${expanded ? jobErrors(job) : nothing}
    </li>`;
  }

  // Arrow functions: the row parts call them without the element as `this`.
  private _toggle = (jobId: string): void => {
    const next = new Set(this._expanded);
    if (!next.delete(jobId)) next.add(jobId);
    this._expanded = next;
  };

  private _onCancel = (job: JobSummary): void => {
    this.dispatchEvent(
      new CustomEvent<JobCancelDetail>('job-cancel', {
        detail: { jobId: job.id, name: job.name },
        bubbles: true,
        composed: true,
      }),
    );
  };
}

declare global {
  interface HTMLElementTagNameMap {
    'colony-job-list': ColonyJobList;
  }
}
