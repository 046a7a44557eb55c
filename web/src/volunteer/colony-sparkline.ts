import { LitElement, css, html, svg } from 'lit';
import { customElement, property } from 'lit/decorators.js';

/**
 * A small line chart of recent values (oldest first), scaled to its largest value: an
 * SVG polyline, cheap to redraw every second.
 *
 * @csspart line - the polyline
 */
@customElement('colony-sparkline')
export class ColonySparkline extends LitElement {
  static override styles = css`
    :host {
      display: block;
      height: 36px;
      color: var(--c-accent, #3b82f6);
    }
    svg {
      width: 100%;
      height: 100%;
      display: block;
    }
    polyline {
      fill: none;
      stroke: currentColor;
      stroke-width: 1.5;
      vector-effect: non-scaling-stroke;
    }
    .area {
      fill: currentColor;
      opacity: 0.12;
      stroke: none;
    }
  `;

  /** The values to draw, oldest first. */
  @property({ attribute: false }) values: readonly number[] = [];
  /** Points the chart is wide (fewer values are drawn at its right end). */
  @property({ type: Number }) capacity = 60;
  /** What the chart shows, for assistive technology. */
  @property() label = 'Recent rate';

  override render() {
    const n = Math.max(2, this.capacity);
    const values = this.values.slice(-n);
    const max = Math.max(...values, 0) || 1;
    const offset = n - values.length;
    const points = values
      .map(
        (v, i) =>
          `${offset + i},${(30 - (Math.max(0, v) / max) * 28).toFixed(2)}`,
      )
      .join(' ');
    const first = offset;
    const last = offset + values.length - 1;
    return html`<svg
      viewBox="0 0 ${n - 1} 31"
      preserveAspectRatio="none"
      role="img"
      aria-label=${this.label}
    >
      ${
        values.length > 1
          ? svg`<polygon class="area" points="${first},31 ${points} ${last},31"></polygon>
            <polyline part="line" points=${points}></polyline>`
          : null
      }
    </svg>`;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'colony-sparkline': ColonySparkline;
  }
}
