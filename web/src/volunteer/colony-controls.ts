import { LitElement, css, html, nothing } from 'lit';
import { customElement, property } from 'lit/decorators.js';
import { CPU_SHARES } from '../../../shared/duty-cycle.js';
import { baseStyles } from '../ui-styles.js';
import type { CpuShare } from './settings-store.js';

/** What a control asks to change (one field per event). */
export interface ControlsChange {
  threads?: number;
  cpuShare?: CpuShare;
  paused?: boolean;
  pauseOnBattery?: boolean;
}

/**
 * How much this browser gives: pause/resume, threads, CPU share, pause on battery.
 * Presentational: it shows the values it is given and asks for changes with a
 * `controls-change` event; the page applies them to the running session.
 *
 * @fires controls-change - `detail`: a {@link ControlsChange}
 */
@customElement('colony-controls')
export class ColonyControls extends LitElement {
  static override styles = [
    baseStyles,
    css`
      :host {
        display: block;
      }
      .controls {
        display: grid;
        grid-template-columns: auto 1fr;
        align-items: center;
        gap: 14px 16px;
      }
      .label {
        font-weight: 600;
      }
      .row {
        display: flex;
        align-items: center;
        gap: 10px 12px;
        flex-wrap: wrap;
        min-width: 0;
      }
      .hint {
        font-size: 13px;
      }
      .group {
        display: inline-flex;
        border: 1px solid var(--c-border);
        border-radius: 8px;
        overflow: hidden;
      }
      .group button {
        border: none;
        border-radius: 0;
        height: 34px;
        padding: 0 12px;
        min-width: 36px;
        font-size: 15px;
      }
      .group button + button,
      .group output + button {
        border-left: 1px solid var(--c-border);
      }
      .stepper button {
        width: 36px;
        padding: 0;
        font-size: 18px;
        line-height: 1;
      }
      .stepper output {
        min-width: 3em;
        text-align: center;
        font-weight: 600;
        font-size: 16px;
        border-left: 1px solid var(--c-border);
        line-height: 34px;
      }
      /* The chosen share: the soft accent reads well in light and dark alike. */
      .shares button[aria-checked='true'] {
        background: var(--c-accent-soft);
        color: var(--c-accent);
        box-shadow: inset 0 0 0 2px var(--c-accent);
        font-weight: 600;
      }
      /* Its ring follows the group's rounded ends. */
      .shares button:first-child {
        border-radius: 7px 0 0 7px;
      }
      .shares button:last-child {
        border-radius: 0 7px 7px 0;
      }
      label.check {
        display: inline-flex;
        align-items: center;
        gap: 8px;
        cursor: pointer;
      }
      input[type='checkbox'] {
        width: 16px;
        height: 16px;
        margin: 0;
        accent-color: var(--c-accent);
      }
      @media (max-width: 640px) {
        .controls {
          grid-template-columns: 1fr;
          gap: 6px;
        }
        .row + .label {
          margin-top: 10px;
        }
      }
    `,
  ];

  /** Threads in use (1..maxThreads). */
  @property({ type: Number }) threads = 1;
  @property({ type: Number }) maxThreads = 1;
  /** CPU share per thread, percent. */
  @property({ type: Number }) cpuShare: CpuShare = 100;
  @property({ type: Boolean }) pauseOnBattery = false;
  /** The browser can tell battery from mains (else the option is hidden). */
  @property({ type: Boolean }) batterySupported = false;
  /** Running on battery now. */
  @property({ type: Boolean }) onBattery = false;

  override render() {
    const { threads, maxThreads } = this;
    return html`
      <div class="controls">
        <span class="label" id="threads-label">Threads</span>
        <div class="row">
          <span
            class="group stepper"
            role="group"
            aria-labelledby="threads-label"
          >
            <button
              aria-label="Fewer threads"
              ?disabled=${threads <= 1}
              @click=${() => this._change({ threads: threads - 1 })}
            >
              −
            </button>
            <output class="num" aria-live="polite" data-testid="threads"
              >${threads}</output
            >
            <button
              aria-label="More threads"
              ?disabled=${threads >= maxThreads}
              @click=${() => this._change({ threads: threads + 1 })}
            >
              +
            </button>
          </span>
          <span class="hint muted"
            >of ${maxThreads} ${maxThreads === 1 ? 'core' : 'cores'}</span
          >
        </div>

        <span class="label" id="share-label">CPU share</span>
        <div class="row">
          <span
            class="group shares"
            role="radiogroup"
            aria-labelledby="share-label"
            data-testid="cpu-share"
          >
            ${CPU_SHARES.map(
              (share) =>
                html`<button
                  role="radio"
                  aria-checked=${share === this.cpuShare ? 'true' : 'false'}
                  data-share=${share}
                  @click=${() => this._change({ cpuShare: share })}
                >
                  ${share}%
                </button>`,
            )}
          </span>
          <span class="hint muted">${this._shareHint()}</span>
        </div>
        ${this.batterySupported ? this._battery() : nothing}
      </div>
    `;
  }

  private _battery() {
    return html`
      <span class="label">Battery</span>
      <div class="row">
        <label class="check">
          <input
            type="checkbox"
            data-testid="pause-on-battery"
            .checked=${this.pauseOnBattery}
            @change=${(event: Event) =>
              this._change({
                pauseOnBattery: (event.target as HTMLInputElement).checked,
              })}
          />
          Pause while on battery
        </label>
        <span class="hint muted"
          >${this.onBattery ? 'on battery now' : 'plugged in'}</span
        >
      </div>
    `;
  }

  private _shareHint(): string {
    if (this.cpuShare === 100) return 'each thread runs flat out';
    const rest = Math.round(100 / this.cpuShare - 1);
    return rest === 1
      ? 'each thread rests as long as it works'
      : this.cpuShare === 75
        ? 'each thread rests a third as long as it works'
        : `each thread rests ${rest}× as long as it works`;
  }

  private _change(detail: ControlsChange): void {
    this.dispatchEvent(
      new CustomEvent<ControlsChange>('controls-change', {
        detail,
        bubbles: true,
        composed: true,
      }),
    );
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'colony-controls': ColonyControls;
  }
}
