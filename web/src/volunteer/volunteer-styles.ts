/** Styles of `<colony-volunteer>`: the card, the state line and its buttons, the stats. */
import { css } from 'lit';

export const volunteerStyles = css`
  :host {
    display: block;
    max-width: 760px;
    margin: 0 auto;
    padding: 20px 16px 32px;
  }
  header {
    display: flex;
    align-items: center;
    justify-content: space-between;
    gap: 12px;
    margin-bottom: 16px;
  }
  .brand {
    display: flex;
    align-items: baseline;
    gap: 10px;
  }
  .brand b {
    font-size: 20px;
    letter-spacing: -0.01em;
  }
  a {
    color: var(--c-accent);
    text-decoration: none;
  }
  a:hover {
    text-decoration: underline;
  }
  .hero {
    padding: 20px;
    display: grid;
    gap: 20px;
  }
  .state-row {
    display: flex;
    align-items: center;
    justify-content: space-between;
    gap: 16px;
    flex-wrap: wrap;
  }
  .state {
    display: flex;
    align-items: center;
    gap: 10px;
    font-size: 18px;
    font-weight: 600;
    min-width: 0;
  }
  .state .dot {
    width: 12px;
    height: 12px;
  }
  .phase-computing .dot {
    animation: pulse 1.2s ease-in-out infinite;
  }
  @keyframes pulse {
    50% {
      opacity: 0.35;
    }
  }
  @media (prefers-reduced-motion: reduce) {
    .phase-computing .dot {
      animation: none;
    }
  }
  .phase-stopped {
    color: var(--c-faint);
  }
  .phase-connecting,
  .phase-reconnecting {
    color: var(--c-warn);
  }
  .phase-waiting {
    color: var(--c-running);
  }
  .phase-computing {
    color: var(--c-done);
  }
  .phase-paused {
    color: var(--c-warn);
  }
  .actions {
    display: flex;
    gap: 10px;
    flex-wrap: wrap;
  }
  .state .label {
    color: var(--c-text);
  }
  button.big {
    min-width: 132px;
    padding: 10px 20px;
    font-size: 15px;
  }
  .stats {
    display: grid;
    grid-template-columns: minmax(0, 1.7fr) repeat(3, minmax(0, 1fr));
    border-top: 1px solid var(--c-border);
  }
  .stat {
    padding: 14px 20px;
    min-width: 0;
  }
  .stat + .stat {
    border-left: 1px solid var(--c-border);
  }
  .stat .label {
    white-space: nowrap;
    font-size: 12px;
    color: var(--c-muted);
    text-transform: uppercase;
    letter-spacing: 0.03em;
    font-weight: 600;
  }
  .stat .value {
    font-size: 22px;
    font-weight: 600;
    margin-top: 2px;
  }
  .job .value {
    font-size: 16px;
    line-height: 33px;
  }
  .detail {
    padding: 10px 20px;
    border-top: 1px solid var(--c-border);
    display: flex;
    flex-wrap: wrap;
    gap: 6px 20px;
    font-size: 13px;
  }
  .about {
    margin-top: 16px;
    padding: 16px 20px;
    font-size: 13px;
    color: var(--c-muted);
  }
  .about p {
    margin: 0 0 6px;
  }
  .about p:last-child {
    margin: 0;
  }
  @media (max-width: 640px) {
    .stats {
      grid-template-columns: repeat(3, minmax(0, 1fr));
    }
    .hero {
      padding: 16px;
    }
    .detail {
      padding: 10px 16px;
    }
    .about {
      padding: 14px 16px;
    }
    .stat {
      padding: 12px 16px;
    }
    .stat .label {
      letter-spacing: 0.01em;
    }
    .stat.job {
      grid-column: 1 / -1;
      border-bottom: 1px solid var(--c-border);
    }
    .stat.job + .stat {
      border-left: none;
    }
    .stat:not(.job) .value {
      font-size: 20px;
    }
    .actions {
      width: 100%;
    }
    button.big {
      flex: 1;
      min-width: 0;
    }
  }
`;
