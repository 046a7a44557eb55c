/** Styles of `<colony-contribution>`: totals, what the job is for, the rate line, the name. */
import { css } from 'lit';

export const contributionStyles = css`
  :host {
    display: block;
    margin-top: 16px;
  }
  .totals {
    display: grid;
    grid-template-columns: repeat(3, minmax(0, 1fr));
  }
  .total {
    padding: 14px 20px;
    min-width: 0;
  }
  .total + .total {
    border-left: 1px solid var(--c-border);
  }
  .label {
    font-size: 12px;
    color: var(--c-muted);
    text-transform: uppercase;
    letter-spacing: 0.03em;
    font-weight: 600;
    white-space: nowrap;
  }
  .value {
    font-size: 22px;
    font-weight: 600;
    margin-top: 2px;
  }
  .section {
    padding: 14px 20px;
    border-top: 1px solid var(--c-border);
  }
  /* A job's name as its submitter wrote it (not upper-cased like the labels), wrapped
     inside the card however long. */
  .job-name {
    margin-top: 2px;
    font-weight: 600;
    overflow-wrap: anywhere;
  }
  .why {
    margin: 4px 0 0;
    white-space: pre-wrap;
    overflow-wrap: anywhere;
    font-size: 14px;
  }
  .rate-head {
    display: flex;
    justify-content: space-between;
    align-items: baseline;
  }
  form {
    display: flex;
    gap: 8px;
    margin-top: 6px;
    flex-wrap: wrap;
  }
  input {
    flex: 1 1 180px;
    min-width: 0;
    font: inherit;
    padding: 6px 10px;
    border-radius: 6px;
    border: 1px solid var(--c-border);
    background: var(--c-surface);
    color: var(--c-text);
  }
  .hint {
    font-size: 13px;
    margin-top: 6px;
  }
  @media (max-width: 640px) {
    .total,
    .section {
      padding: 12px 16px;
    }
    /* Three columns of a phone's width: long labels wrap rather than overlap. */
    .label {
      white-space: normal;
    }
    .value {
      font-size: 20px;
    }
  }
`;
