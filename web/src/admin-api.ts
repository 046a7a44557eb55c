/**
 * The one admin call the dashboard makes: cancelling a job with the token as a Bearer
 * header (never in the URL). Only the dashboard imports this module.
 */

export type CancelResult =
  { ok: true } | { ok: false; unauthorized: boolean; message: string };

/** `DELETE /api/jobs/:id` with the token. Never throws. */
export async function cancelJob(
  jobId: string,
  token: string,
): Promise<CancelResult> {
  let response: Response;
  try {
    response = await fetch(`/api/jobs/${encodeURIComponent(jobId)}`, {
      method: 'DELETE',
      headers: { Authorization: `Bearer ${token}` },
      cache: 'no-store',
      credentials: 'omit',
      referrerPolicy: 'no-referrer',
    });
  } catch {
    return {
      ok: false,
      unauthorized: false,
      message: 'The master could not be reached. Try again.',
    };
  }
  if (response.ok) return { ok: true };
  if (response.status === 401 || response.status === 403) {
    return {
      ok: false,
      unauthorized: true,
      message: 'The master refused this token.',
    };
  }
  let message = `The master answered ${response.status}.`;
  try {
    const body = (await response.json()) as {
      error?: { message?: unknown };
    };
    if (typeof body.error?.message === 'string') {
      message = body.error.message.slice(0, 300);
    }
  } catch {
    // not JSON: keep the status line
  }
  return { ok: false, unauthorized: false, message };
}
