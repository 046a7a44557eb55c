/** The state the volunteer page shows. */

/** What the page shows as its state, from the session's and the user's. */
export const Phase = {
  Stopped: 'stopped',
  Connecting: 'connecting',
  Waiting: 'waiting',
  Computing: 'computing',
  Reconnecting: 'reconnecting',
  Paused: 'paused',
} as const;
export type Phase = (typeof Phase)[keyof typeof Phase];

export const PHASE_LABEL: Record<Phase, string> = {
  stopped: 'Stopped',
  connecting: 'Connecting…',
  waiting: 'Waiting for work',
  computing: 'Computing',
  reconnecting: 'Reconnecting…',
  paused: 'Paused',
};
