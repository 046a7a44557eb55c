import { LitElement, css, html } from 'lit';
import { customElement, property } from 'lit/decorators.js';
import { cssomStyle } from '../cssom-style.js';
import type { JobCounts } from '../../../shared/protocol.js';
import { completion, progressParts } from '../job-math.js';
import { formatCount, formatPercent } from '../format.js';

/**
 * A stacked progress bar of one job: done, failed, running, then queued, on a track.
 * The done part includes the progress reported inside running tasks (`partial`).
 * Exposes the completion (done + failed + partial) as an ARIA progressbar.
 *
 * @csspart bar - the track
 */
@customElement('colony-progress-bar')
export class ColonyProgressBar extends LitElement {
  static override styles = css`
    :host {
      display: block;
      min-width: 0;
    }
    .track {
      display: flex;
      height: 10px;
      border-radius: 999px;
      overflow: hidden;
      background: var(--c-surface-2);
      box-shadow: inset 0 0 0 1px var(--c-border);
    }
    .seg {
      height: 100%;
      transition: width 0.35s ease-out;
    }
    .done {
      background: var(--c-done);
    }
    .failed {
      background: var(--c-failed);
    }
    .running {
      background: var(--c-running);
      background-image: linear-gradient(
        45deg,
        rgb(255 255 255 / 22%) 25%,
        transparent 25%,
        transparent 50%,
        rgb(255 255 255 / 22%) 50%,
        rgb(255 255 255 / 22%) 75%,
        transparent 75%
      );
      background-size: 10px 10px;
    }
    .queued {
      background: var(--c-queued);
    }
    @media (prefers-reduced-motion: reduce) {
      .seg {
        transition: none;
      }
    }
  `;

  /** The job's task counts. */
  @property({ attribute: false }) counts: JobCounts = {
    total: 0,
    queued: 0,
    running: 0,
    done: 0,
    failed: 0,
  };

  /** Computed part of the running tasks (`JobSummary.partial`), counted as done. */
  @property({ attribute: false }) partial = 0;

  /** Accessible name, e.g. the job's name. */
  @property() label = 'progress';

  override render() {
    const c = this.counts;
    const parts = progressParts(c, this.partial);
    const pct = (f: number) => `${(f * 100).toFixed(3)}%`;
    const done = completion(c, this.partial);
    return html`<div
      class="track"
      part="bar"
      role="progressbar"
      aria-label=${this.label}
      aria-valuemin="0"
      aria-valuemax="100"
      aria-valuenow=${Math.floor(done * 100)}
      aria-valuetext=${`${formatPercent(done)}: ${formatCount(c.done)} done, ${formatCount(c.failed)} failed, ${formatCount(c.running)} running, ${formatCount(c.queued)} queued`}
    >
      <div
        class="seg done"
        style=${cssomStyle({ width: pct(parts.done) })}
      ></div>
      <div
        class="seg failed"
        style=${cssomStyle({ width: pct(parts.failed) })}
      ></div>
      <div
        class="seg running"
        style=${cssomStyle({ width: pct(parts.running) })}
      ></div>
      <div
        class="seg queued"
        style=${cssomStyle({ width: pct(parts.queued) })}
      ></div>
    </div>`;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'colony-progress-bar': ColonyProgressBar;
  }
}
