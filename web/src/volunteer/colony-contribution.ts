import { LitElement, html, nothing, type PropertyValues } from 'lit';
import { customElement, property, state } from 'lit/decorators.js';
import type { Standing } from '../../../shared/protocol.js';
import { LIMITS } from '../../../shared/protocol.js';
import { formatCount, formatRate, formatSpan } from '../format.js';
import { baseStyles } from '../ui-styles.js';
import { contributionStyles } from './contribution-styles.js';
import './colony-sparkline.js';

/** Seconds of rate history the sparkline shows. */
const RATE_POINTS = 60;

/**
 * What this browser has given (its volunteer's totals over every visit, as the master's
 * `standing` frames say), what the job in hand is for (its public description, fetched
 * from `GET /api/jobs/:id` and shown as text, never as markup), a sparkline of its
 * recent rate, and the name it volunteers under.
 *
 * @fires volunteer-name - `{ name }`: the volunteer set a new name
 */
@customElement('colony-contribution')
export class ColonyContribution extends LitElement {
  static override styles = [baseStyles, contributionStyles];

  /** The last standing the master sent (null before the first). */
  @property({ attribute: false }) standing: Omit<Standing, 'type'> | null =
    null;
  /** The job of the latest task received, if any. */
  @property() jobId: string | null = null;
  @property() jobName: string | null = null;
  /** Tasks done here since the page opened; sampled once per `now` for the rate. */
  @property({ type: Number }) done = 0;
  /** The page's clock (ms), ticking once a second. */
  @property({ type: Number }) now = 0;
  /** The name this browser volunteers under. */
  @property() name = '';

  @state() private _description: string | null = null;
  @state() private _rates: number[] = [];
  @state() private _saved = false;
  private _last: { at: number; done: number } | null = null;
  private _fetchedFor: string | null = null;
  /** The last standing heard: still shown once the session stops. */
  private _kept: Omit<Standing, 'type'> | null = null;

  protected override willUpdate(changed: PropertyValues<this>): void {
    if (changed.has('now')) this._sample();
    if (this.standing) this._kept = this.standing;
    if (changed.has('jobId') && this.jobId !== this._fetchedFor) {
      this._fetchedFor = this.jobId;
      this._description = null;
      if (this.jobId) void this._fetchDescription(this.jobId);
    }
  }

  override render() {
    const s = this.standing ?? this._kept;
    const rate = this._rates.at(-1) ?? 0;
    return html`
      <section class="card" aria-label="Your contribution">
        <div class="totals">
          <div class="total">
            <div class="label">Your tasks, all visits</div>
            <div class="value num" data-testid="total-tasks">
              ${s ? formatCount(s.tasks) : '—'}
            </div>
          </div>
          <div class="total">
            <div class="label">CPU time given</div>
            <div class="value num" data-testid="total-cpu">
              ${s ? formatSpan(Math.round(s.busyMs / 1000)) : '—'}
            </div>
          </div>
          <div class="total">
            <div class="label">Rank</div>
            <div class="value num" data-testid="rank">
              ${s ? html`#${s.rank} <span class="muted">of ${s.volunteers}</span>` : '—'}
            </div>
          </div>
        </div>
        ${this._why()}
        <div class="section">
          <div class="rate-head">
            <span class="label">Rate, last minute</span>
            <span class="num muted">${formatRate(rate)}</span>
          </div>
          <colony-sparkline
            .values=${this._rates}
            capacity=${RATE_POINTS}
            label="Tasks per second over the last minute"
          ></colony-sparkline>
        </div>
        ${this._nameForm()}
      </section>
    `;
  }

  private _why() {
    if (!this.jobId) return nothing;
    // Text interpolation: lit escapes it, so markup in a description is shown, not run.
    return html`<div class="section">
      <div class="label">Computing now</div>
      <div class="job-name" data-testid="job-name">
        ${this.jobName ?? this.jobId}
      </div>
      ${
        this._description
          ? html`<p
              class="why"
              data-testid="description"
              .textContent=${this._description}
            ></p>`
          : html`<p class="why faint">No description given for this job.</p>`
      }
    </div>`;
  }

  private _nameForm() {
    return html`<div class="section">
      <label class="label" for="name">Your volunteer name</label>
      <form @submit=${this._onSubmit}>
        <input
          id="name"
          name="name"
          maxlength=${LIMITS.maxNameLength}
          autocomplete="nickname"
          .value=${this.name}
          data-testid="name-input"
        />
        <button type="submit">Save</button>
      </form>
      <div class="hint muted" role="status">
        ${
          this._saved
            ? 'Saved in this browser; used from the next start.'
            : 'Shown on the dashboard beside your totals; kept in this browser.'
        }
      </div>
    </div>`;
  }

  private _onSubmit = (event: SubmitEvent): void => {
    event.preventDefault();
    const input = this.renderRoot.querySelector<HTMLInputElement>('#name');
    this._saved = true;
    this.dispatchEvent(
      new CustomEvent('volunteer-name', {
        detail: { name: input?.value ?? '' },
        bubbles: true,
        composed: true,
      }),
    );
  };

  /** One rate point per tick: tasks finished since the last tick, per second. */
  private _sample(): void {
    const last = this._last;
    this._last = { at: this.now, done: this.done };
    if (last === null || this.now <= last.at) return;
    const rate =
      Math.max(0, this.done - last.done) / ((this.now - last.at) / 1000);
    this._rates = [...this._rates.slice(1 - RATE_POINTS), rate];
  }

  private async _fetchDescription(jobId: string): Promise<void> {
    try {
      const response = await fetch(`/api/jobs/${encodeURIComponent(jobId)}`);
      if (!response.ok) return;
      const job = (await response.json()) as { description?: unknown };
      if (this._fetchedFor === jobId && typeof job.description === 'string')
        this._description = job.description;
    } catch {
      // The description is a courtesy: without it the job's name still shows.
    }
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'colony-contribution': ColonyContribution;
  }
  interface HTMLElementEventMap {
    'volunteer-name': CustomEvent<{ name: string }>;
  }
}
