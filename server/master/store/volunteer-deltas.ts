/** The shapes the volunteers' ledger and its in-memory rows share. */
import type { WorkerKind } from '../../../shared/protocol.js';

/** Where one volunteer stands among all: rank 1 has the most tasks. */
export interface VolunteerStanding {
  tasks: number;
  busyMs: number;
  rank: number;
  volunteers: number;
}

/** A volunteer's changes since the last commit, merged: one write each per commit. */
export interface LedgerDelta {
  id: string;
  name: string;
  kind: WorkerKind;
  tasks: number;
  busyMs: number;
  /** When the delta's first change happened (the first seen of a new volunteer). */
  firstAt: number;
  lastAt: number;
}
