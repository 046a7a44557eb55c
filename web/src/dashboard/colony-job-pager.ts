import { LitElement, css, html, nothing } from 'lit';
import { customElement, property } from 'lit/decorators.js';
import { formatCount } from '../format.js';
import { baseStyles } from '../ui-styles.js';

/**
 * The foot of the job list: how many older finished jobs the list leaves out (or that
 * older ones are on the master), and "Show older", which asks the dashboard to fetch
 * them. Renders nothing when there is nothing older.
 *
 * @fires show-older - the user asked for older jobs
 */
@customElement('colony-job-pager')
export class ColonyJobPager extends LitElement {
  static override styles = [
    baseStyles,
    css`
      :host {
        display: block;
      }
      .more {
        border-top: 1px solid var(--c-border);
        padding: 10px 16px;
        font-size: 12px;
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
    `,
  ];

  /** Jobs left out of the list (older, finished). */
  @property({ type: Number }) hiddenCount = 0;
  /** The master may have older jobs than the dashboard holds. */
  @property({ type: Boolean }) moreOnMaster = false;

  override render() {
    if (this.hiddenCount <= 0 && !this.moreOnMaster) return nothing;
    return html`<div class="more muted">
      ${
        this.hiddenCount > 0
          ? html`and ${formatCount(this.hiddenCount)} older finished
            ${this.hiddenCount === 1 ? 'job' : 'jobs'}`
          : 'older jobs are on the master'
      }
      <button class="link" data-testid="show-older" @click=${this._onShowOlder}>
        Show older
      </button>
    </div>`;
  }

  private _onShowOlder(): void {
    this.dispatchEvent(
      new CustomEvent('show-older', { bubbles: true, composed: true }),
    );
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'colony-job-pager': ColonyJobPager;
  }
}
