/** Styles of `<colony-dashboard>`: header, tiles, the two-column layout and the toast. */
import { css } from 'lit';

export const dashboardStyles = css`
  :host {
    display: block;
    max-width: 1600px;
    margin: 0 auto;
    padding: 0 20px 28px;
  }
  header {
    display: flex;
    align-items: center;
    gap: 12px;
    height: 56px;
  }
  .brand {
    display: flex;
    align-items: baseline;
    gap: 10px;
    margin-right: auto;
  }
  .brand b {
    font-size: 20px;
    letter-spacing: -0.01em;
  }
  a {
    color: var(--c-accent);
    text-decoration: none;
    white-space: nowrap;
  }
  a:hover {
    text-decoration: underline;
  }
  .conn-live {
    color: var(--c-done);
  }
  .conn-connecting,
  .conn-reconnecting {
    color: var(--c-warn);
  }
  .banner {
    margin: 0 0 12px;
    padding: 8px 12px;
    border-radius: 8px;
    border: 1px solid color-mix(in srgb, var(--c-warn) 35%, transparent);
    background: color-mix(in srgb, var(--c-warn) 10%, transparent);
    color: var(--c-text);
    font-size: 13px;
  }
  .tiles {
    display: grid;
    grid-template-columns: repeat(5, minmax(0, 1fr));
    gap: 12px;
    margin-bottom: 16px;
  }
  .tile {
    padding: 12px 16px;
  }
  .tile .label {
    font-size: 12px;
    font-weight: 600;
    color: var(--c-muted);
    text-transform: uppercase;
    letter-spacing: 0.03em;
  }
  .tile .value {
    font-size: 24px;
    font-weight: 650;
    line-height: 1.25;
    margin-top: 2px;
  }
  .tile .sub {
    font-size: 12px;
    color: var(--c-muted);
  }
  .layout {
    display: grid;
    grid-template-columns: minmax(0, 1fr) minmax(340px, 460px);
    gap: 16px;
    align-items: start;
  }
  .column {
    display: grid;
    gap: 16px;
    min-width: 0;
  }
  .count {
    font-size: 13px;
    color: var(--c-muted);
  }
  .loading {
    padding: 28px 16px;
    text-align: center;
    color: var(--c-muted);
    border-top: 1px solid var(--c-border);
  }
  .chart {
    padding-bottom: 8px;
  }
  .chart .rate {
    font-size: 15px;
    font-weight: 650;
    color: var(--c-text);
  }
  .toast {
    position: fixed;
    left: 50%;
    bottom: 20px;
    transform: translateX(-50%);
    background: var(--c-text);
    color: var(--c-surface);
    padding: 10px 16px;
    border-radius: 8px;
    box-shadow: 0 8px 24px rgb(16 24 40 / 25%);
    font-size: 13px;
    max-width: calc(100vw - 32px);
    overflow-wrap: anywhere;
  }
  @media (max-width: 1100px) {
    .layout {
      grid-template-columns: minmax(0, 1fr);
    }
    .tiles {
      grid-template-columns: repeat(3, minmax(0, 1fr));
    }
  }
  @media (max-width: 640px) {
    :host {
      padding: 0 12px 20px;
    }
    .tiles {
      grid-template-columns: repeat(2, minmax(0, 1fr));
      gap: 8px;
    }
    .tile {
      padding: 10px 12px;
    }
    .tile .value {
      font-size: 20px;
    }
    .tile:first-child {
      grid-column: 1 / -1;
    }
    .vol-link {
      display: none;
    }
  }
`;
