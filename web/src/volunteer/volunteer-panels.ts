/**
 * Panels of the volunteer page (`<colony-volunteer>`) that only show what they are
 * given: the stats, the connection detail, and the card about what volunteering does.
 * Plain template functions, styled by the page's styles.
 */
import { html, nothing, type TemplateResult } from 'lit';
import type { SessionStatus } from '../../../shared/worker-session.js';
import { formatCount, formatRate, formatStopwatch } from '../format.js';
import { Phase } from './volunteer-phase.js';

/** What this tab has given: the job it works on, tasks done, time given, rate. */
export function statsPanel(given: {
  jobName: string | null;
  done: number;
  givenMs: number;
  /** Recent rate (`windowRate` over the page's window). */
  rate: number;
}): TemplateResult {
  const { jobName, done, givenMs, rate } = given;
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
          ${formatStopwatch(givenMs)}
        </div>
      </div>
      <div class="stat">
        <div class="label">Rate</div>
        <div class="value num">${formatRate(rate)}</div>
      </div>
    </div>
  `;
}

/** The connection's state, the tasks held, the name the tab goes by, the last close. */
export function detailPanel(
  status: SessionStatus | null,
  running: boolean,
  name: string,
  phase: Phase,
): TemplateResult {
  return html`
    <div class="detail muted">
      <span
        >Connection:
        <b data-testid="connection"
          >${status && running ? status.state : 'stopped'}</b
        ></span
      >
      <span class="num">Tasks held: ${formatCount(status?.inFlight ?? 0)}</span>
      <span class="ellipsis">As: ${name}</span>
      ${
        status?.lastClose && phase === Phase.Reconnecting
          ? html`<span class="ellipsis">Last close: ${status.lastClose}</span>`
          : nothing
      }
    </div>
  `;
}

/** What volunteering means for this browser, and what task code cannot reach. */
export function aboutCard(threads: number): TemplateResult {
  return html`
    <section class="card about">
      <p>
        While this page is open and started, it runs tasks for this colony in
        ${threads === 1 ? 'a background thread' : 'background threads'} (Web
        Workers), also while the tab is in the background. Pause finishes the
        tasks under way and hands the rest back; closing the tab stops it, and
        unfinished tasks go to someone else. The controls are remembered by this
        browser.
      </p>
      <p>
        Task code runs isolated from this page: it cannot read the page, its
        storage or any admin token, and it gets no credentials to the master's
        API.
      </p>
    </section>
  `;
}
