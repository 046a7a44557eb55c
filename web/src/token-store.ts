/**
 * Where the dashboard keeps the master's token: in this module's memory, and, only if
 * the user asks, in this tab's sessionStorage (gone when the tab closes). Never in
 * localStorage, a cookie or a URL. The volunteer page does not import this module,
 * and Web Workers (where task code runs) have no sessionStorage at all.
 */

const KEY = 'colony.token';
let held: string | null = null;

function session(): Storage | null {
  try {
    return window.sessionStorage;
  } catch {
    return null; // storage disabled: memory only
  }
}

/** The token this tab holds, if any. */
export function getToken(): string | null {
  if (held !== null) return held;
  try {
    held = session()?.getItem(KEY) ?? null;
  } catch {
    held = null;
  }
  return held;
}

/** Holds `token` in memory, and in sessionStorage if `remember`. */
export function setToken(token: string, remember: boolean): void {
  held = token;
  try {
    if (remember) session()?.setItem(KEY, token);
    else session()?.removeItem(KEY);
  } catch {
    // quota or privacy mode: memory is enough for this page's life
  }
}

/** Forgets the token (wrong token, or the user asked). */
export function forgetToken(): void {
  held = null;
  try {
    session()?.removeItem(KEY);
  } catch {
    // nothing stored
  }
}
