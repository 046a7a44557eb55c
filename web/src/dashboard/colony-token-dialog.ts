import { LitElement, css, html, nothing, type PropertyValues } from 'lit';
import { customElement, property, query, state } from 'lit/decorators.js';
import { baseStyles } from '../ui-styles.js';

/** Detail of the `cancel-confirm` event. */
export interface CancelConfirmDetail {
  /** The token typed in, or null to use the one the page already holds. */
  token: string | null;
  /** Keep the typed token in this tab's sessionStorage. */
  remember: boolean;
}

/**
 * The modal that confirms cancelling a job and asks for the master's token when the
 * page does not hold one. The token field is a password field; the token goes up in
 * the event only, never into an attribute or a URL.
 *
 * @fires cancel-confirm - the user confirmed; detail {@link CancelConfirmDetail}
 * @fires cancel-dismiss - the user closed the dialog
 * @fires token-forget - the user asked the page to forget the token it holds
 */
@customElement('colony-token-dialog')
export class ColonyTokenDialog extends LitElement {
  static override styles = [
    baseStyles,
    css`
      dialog {
        border: 1px solid var(--c-border);
        border-radius: 12px;
        padding: 0;
        width: min(440px, calc(100vw - 32px));
        background: var(--c-surface);
        color: var(--c-text);
        box-shadow: 0 20px 50px rgb(16 24 40 / 25%);
      }
      dialog::backdrop {
        background: rgb(16 24 40 / 45%);
      }
      form {
        display: grid;
        gap: 14px;
        padding: 20px;
        margin: 0;
      }
      h3 {
        margin: 0;
        font-size: 17px;
        overflow-wrap: anywhere;
      }
      p {
        margin: 0;
        color: var(--c-muted);
      }
      label {
        display: grid;
        gap: 6px;
        font-weight: 600;
      }
      input[type='password'] {
        font: inherit;
        font-family: var(--mono);
        padding: 8px 10px;
        border: 1px solid var(--c-border);
        border-radius: 8px;
        background: var(--c-surface-2);
        color: var(--c-text);
        width: 100%;
      }
      .check {
        display: flex;
        gap: 8px;
        align-items: center;
        font-weight: 400;
        color: var(--c-muted);
      }
      .error {
        color: var(--c-failed);
        font-weight: 600;
      }
      .buttons {
        display: flex;
        justify-content: flex-end;
        gap: 8px;
        flex-wrap: wrap;
      }
      .held {
        display: flex;
        justify-content: space-between;
        align-items: center;
        gap: 8px;
        font-size: 13px;
        color: var(--c-muted);
      }
      button.link {
        border: none;
        background: none;
        color: var(--c-accent);
        padding: 0;
      }
    `,
  ];

  /** Whether the dialog is shown (modal). */
  @property({ type: Boolean }) open = false;
  /** Name of the job to cancel (rendered as text). */
  @property() jobName = '';
  /** The page already holds a token: do not ask for one. */
  @property({ type: Boolean }) hasToken = false;
  /** A request is in progress. */
  @property({ type: Boolean }) busy = false;
  /** Why the last attempt failed (e.g. a wrong token). */
  @property() error = '';

  @state() private _remember = true;
  @query('dialog') private _dialog!: HTMLDialogElement;
  @query('input[type=password]') private _input!: HTMLInputElement | null;

  override render() {
    return html`<dialog
      aria-labelledby="title"
      @close=${this._onClose}
      @cancel=${this._onEscape}
    >
      <form method="dialog" @submit=${this._onSubmit}>
        <h3 id="title">Cancel “${this.jobName}”?</h3>
        <p>
          Queued and running tasks are dropped; results recorded so far are
          kept.
        </p>
        ${
          this.hasToken
            ? html`<div class="held">
                <span>Using the token this tab holds.</span>
                <button type="button" class="link" @click=${this._onForget}>
                  Use another
                </button>
              </div>`
            : html`<label>
                  Master token
                  <input
                    type="password"
                    name="token"
                    autocomplete="off"
                    spellcheck="false"
                    required
                  />
                </label>
                <label class="check">
                  <input
                    type="checkbox"
                    .checked=${this._remember}
                    @change=${this._onRemember}
                  />
                  Remember for this tab only (sessionStorage)
                </label>`
        }
        ${
          this.error
            ? html`<div class="error" role="alert">${this.error}</div>`
            : nothing
        }
        <div class="buttons">
          <button type="button" @click=${this._dismiss} ?disabled=${this.busy}>
            Keep running
          </button>
          <button type="submit" class="danger solid" ?disabled=${this.busy}>
            ${this.busy ? 'Cancelling…' : 'Cancel job'}
          </button>
        </div>
      </form>
    </dialog>`;
  }

  protected override updated(changed: PropertyValues<this>): void {
    if (changed.has('open')) {
      if (this.open && !this._dialog.open) {
        this._dialog.showModal();
        this._input?.focus();
      } else if (!this.open && this._dialog.open) {
        this._dialog.close();
      }
    }
    if (changed.has('hasToken') && this.open && !this.hasToken) {
      this._input?.focus();
    }
  }

  private _onSubmit(event: SubmitEvent): void {
    event.preventDefault(); // keep the dialog open until the request is done
    if (this.busy) return;
    const token = this.hasToken ? null : (this._input?.value.trim() ?? '');
    if (token === '') {
      this._input?.focus();
      return;
    }
    if (this._input) this._input.value = '';
    this.dispatchEvent(
      new CustomEvent<CancelConfirmDetail>('cancel-confirm', {
        detail: { token, remember: this._remember },
        bubbles: true,
        composed: true,
      }),
    );
  }

  private _onRemember(event: Event): void {
    this._remember = (event.target as HTMLInputElement).checked;
  }

  private _onForget(): void {
    this.dispatchEvent(
      new CustomEvent('token-forget', { bubbles: true, composed: true }),
    );
  }

  private _dismiss(): void {
    this.dispatchEvent(
      new CustomEvent('cancel-dismiss', { bubbles: true, composed: true }),
    );
  }

  private _onEscape(event: Event): void {
    event.preventDefault();
    if (!this.busy) this._dismiss();
  }

  private _onClose(): void {
    if (this.open) this._dismiss();
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'colony-token-dialog': ColonyTokenDialog;
  }
}
