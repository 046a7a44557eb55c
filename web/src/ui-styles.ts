/**
 * Styles shared by the components of both pages: cards, buttons, badges, numbers.
 * Colours come from the custom properties in `page.css`.
 */
import { css } from 'lit';

export const baseStyles = css`
  :host {
    color: var(--c-text);
    font-family: var(--font);
  }
  *,
  *::before,
  *::after {
    box-sizing: border-box;
  }
  .card {
    background: var(--c-surface);
    border: 1px solid var(--c-border);
    border-radius: var(--radius);
    box-shadow: var(--shadow);
    min-width: 0;
  }
  .card-head {
    display: flex;
    align-items: baseline;
    justify-content: space-between;
    gap: 12px;
    padding: 12px 16px 8px;
  }
  h2 {
    margin: 0;
    font-size: 13px;
    font-weight: 600;
    letter-spacing: 0.02em;
    text-transform: uppercase;
    color: var(--c-muted);
  }
  .num {
    font-variant-numeric: tabular-nums;
    white-space: nowrap;
  }
  .muted {
    color: var(--c-muted);
  }
  .faint {
    color: var(--c-faint);
  }
  .ellipsis {
    overflow: hidden;
    text-overflow: ellipsis;
    white-space: nowrap;
    min-width: 0;
  }
  button {
    font: inherit;
    cursor: pointer;
    border-radius: 8px;
    border: 1px solid var(--c-border);
    background: var(--c-surface);
    color: var(--c-text);
    padding: 6px 12px;
    line-height: 1.2;
  }
  button:hover:not(:disabled) {
    background: var(--c-surface-2);
  }
  button:focus-visible,
  input:focus-visible,
  a:focus-visible,
  [tabindex]:focus-visible {
    outline: 2px solid var(--c-accent);
    outline-offset: 2px;
  }
  button:disabled {
    cursor: default;
    opacity: 0.55;
  }
  button.primary {
    background: var(--c-accent);
    border-color: var(--c-accent);
    color: #fff;
    font-weight: 600;
  }
  button.primary:hover:not(:disabled) {
    background: var(--c-accent);
    filter: brightness(1.08);
  }
  button.danger {
    color: var(--c-failed);
  }
  button.danger.solid {
    background: var(--c-failed);
    border-color: var(--c-failed);
    color: #fff;
    font-weight: 600;
  }
  .badge {
    display: inline-flex;
    align-items: center;
    gap: 6px;
    padding: 2px 8px;
    border-radius: 999px;
    font-size: 12px;
    font-weight: 600;
    line-height: 18px;
    white-space: nowrap;
    background: var(--c-surface-2);
    color: var(--c-muted);
    border: 1px solid var(--c-border);
  }
  .dot {
    width: 8px;
    height: 8px;
    border-radius: 50%;
    background: currentColor;
    flex: none;
  }
  .ok {
    color: var(--c-done);
  }
  .warn {
    color: var(--c-warn);
  }
  .bad {
    color: var(--c-failed);
  }
  .kind-node {
    color: var(--c-node);
  }
  .kind-browser {
    color: var(--c-browser);
  }
  .sr-only {
    position: absolute;
    width: 1px;
    height: 1px;
    overflow: hidden;
    clip: rect(0 0 0 0);
    white-space: nowrap;
  }
`;
