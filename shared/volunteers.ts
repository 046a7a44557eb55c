/**
 * What the master keeps per volunteer (SPEC §14) and how `GET /api/volunteers` is asked
 * for it: shared by the master, the client library and the dashboard.
 */
import * as z from 'zod';
import { WorkerKind } from './protocol.js';

/** One volunteer's totals, as `GET /api/volunteers` lists them. */
export const VolunteerSummary = z.strictObject({
  /** The volunteer's id: a short hash of its public key (shared/identity.ts). */
  id: z.string(),
  /** The name it gave last. */
  name: z.string(),
  /** The kind of worker it connected as last. */
  kind: WorkerKind,
  /** Its results that were recorded (credited once each). */
  tasks: z.number().int().nonnegative(),
  /** Busy milliseconds of those tasks, as its threads measured them (see docs/protocol.md). */
  busyMs: z.number().nonnegative(),
  firstSeen: z.number(),
  lastSeen: z.number(),
});
export type VolunteerSummary = z.infer<typeof VolunteerSummary>;

/** Orders of the list: most tasks, most busy time, most recently seen first. */
export const VolunteerSort = z.enum(['tasks', 'cpu', 'lastSeen']);
export type VolunteerSort = z.infer<typeof VolunteerSort>;

/** Most volunteers in one page. */
export const MAX_VOLUNTEER_PAGE = 500;

/** The query of `GET /api/volunteers`. */
export const VolunteerQuery = z.strictObject({
  sort: VolunteerSort.default('tasks'),
  limit: z.coerce.number().int().min(1).max(MAX_VOLUNTEER_PAGE).default(50),
  offset: z.coerce.number().int().min(0).max(1_000_000_000).default(0),
});
export type VolunteerQuery = z.infer<typeof VolunteerQuery>;

/** One page of `GET /api/volunteers`: `total` counts every volunteer. */
export interface VolunteerPage {
  volunteers: VolunteerSummary[];
  total: number;
}
