/**
 * The volunteer's controls as this browser remembers them (localStorage): threads,
 * CPU share, paused, pause on battery. What is read back is checked (storage is shared
 * with whatever else ran on this origin, and may hold anything): a bad or missing
 * field falls back to its default, never an error.
 */
import * as z from 'zod';
import { CPU_SHARES } from '../../../shared/duty-cycle.js';
import { LIMITS } from '../../../shared/protocol.js';

const KEY = 'colony.volunteer.settings';

export const CpuShare = z.union(CPU_SHARES.map((share) => z.literal(share)));
export type CpuShare = (typeof CPU_SHARES)[number];

export const VolunteerSettings = z.object({
  /** null: not chosen yet (half the cores). */
  threads: z.number().int().min(1).max(LIMITS.maxSlots).nullable().catch(null),
  cpuShare: CpuShare.catch(100),
  paused: z.boolean().catch(false),
  pauseOnBattery: z.boolean().catch(false),
});
export type VolunteerSettings = z.infer<typeof VolunteerSettings>;

export const DEFAULT_SETTINGS: VolunteerSettings = {
  threads: null,
  cpuShare: 100,
  paused: false,
  pauseOnBattery: false,
};

/** The remembered settings, or the defaults (no storage, nothing kept, bad JSON). */
export function loadSettings(): VolunteerSettings {
  let raw: unknown;
  try {
    const text = window.localStorage.getItem(KEY);
    raw = text === null || text.length > 4_096 ? {} : JSON.parse(text);
  } catch {
    raw = {};
  }
  const parsed = VolunteerSettings.safeParse(
    raw !== null && typeof raw === 'object'
      ? { ...DEFAULT_SETTINGS, ...raw }
      : {},
  );
  return parsed.success ? parsed.data : { ...DEFAULT_SETTINGS };
}

/** Remembers the settings; a browser that refuses storage just forgets them. */
export function saveSettings(settings: VolunteerSettings): void {
  try {
    window.localStorage.setItem(KEY, JSON.stringify(settings));
  } catch {
    // Private mode or storage full: the controls still work for this visit.
  }
}
