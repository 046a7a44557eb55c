import { LitElement, css, html } from 'lit';
import { customElement, property } from 'lit/decorators.js';
import type { FeedEvent } from '../../../shared/protocol.js';
import { formatClock } from '../format.js';
import { baseStyles } from '../ui-styles.js';

/** Events shown at once; older ones stay in the model until it trims them. */
const SHOWN = 100;

/**
 * The master's event feed, newest first: workers joining and leaving, tasks reassigned
 * or failed, jobs submitted and finished. Event texts are rendered as text.
 */
@customElement('colony-event-feed')
export class ColonyEventFeed extends LitElement {
  static override styles = [
    baseStyles,
    css`
      :host {
        display: block;
      }
      ol {
        list-style: none;
        margin: 0;
        padding: 0 0 4px;
        overflow-y: auto;
        max-height: var(--feed-height, 360px);
        border-top: 1px solid var(--c-border);
      }
      li {
        display: grid;
        grid-template-columns: 4.6em 6.6em minmax(0, 1fr);
        gap: 8px;
        align-items: baseline;
        padding: 5px 16px;
        font-size: 13px;
        border-bottom: 1px solid var(--c-border);
      }
      li:last-child {
        border-bottom: none;
      }
      time {
        font-size: 12px;
      }
      .kind {
        font-size: 11px;
        font-weight: 700;
        text-transform: uppercase;
        letter-spacing: 0.03em;
      }
      .joined,
      .completed {
        color: var(--c-done);
      }
      .left,
      .cancelled {
        color: var(--c-faint);
      }
      .reassigned,
      .backup {
        color: var(--c-warn);
      }
      .failed {
        color: var(--c-failed);
      }
      .submitted,
      .resumed {
        color: var(--c-accent);
      }
      .text {
        overflow-wrap: anywhere;
      }
      .empty {
        padding: 20px 16px 24px;
        color: var(--c-muted);
        border-top: 1px solid var(--c-border);
        text-align: center;
      }
    `,
  ];

  /** Events oldest first (as kept by the model). */
  @property({ attribute: false }) events: readonly FeedEvent[] = [];

  override render() {
    if (this.events.length === 0) {
      return html`<div class="empty">Nothing has happened yet.</div>`;
    }
    const newest: FeedEvent[] = [];
    for (let i = this.events.length - 1; i >= 0 && newest.length < SHOWN; i--) {
      newest.push(this.events[i] as FeedEvent);
    }
    return html`<ol aria-live="off">
      ${newest.map(
        (e) =>
          html`<li data-kind=${e.kind}>
            <time class="num faint" datetime=${new Date(e.at).toISOString()}
              >${formatClock(e.at)}</time
            >
            <span class="kind ${e.kind}">${e.kind}</span>
            <span class="text">${e.text}</span>
          </li>`,
      )}
    </ol>`;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'colony-event-feed': ColonyEventFeed;
  }
}
