/**
 * The name a volunteer chose for itself, kept in this browser beside its key (the key
 * in IndexedDB, the name in localStorage): one line, control characters stripped,
 * at most the protocol's name length. Clearing the site's data forgets both.
 */
import { LIMITS } from '../../../shared/protocol.js';
import { stripControlsLine } from '../../../shared/sanitize.js';

const KEY = 'colony.volunteerName';

/** A name as the master would keep it: '' when nothing is left. */
export function cleanName(text: string): string {
  return stripControlsLine(text).slice(0, LIMITS.maxNameLength).trim();
}

export function loadVolunteerName(): string | null {
  try {
    const kept = cleanName(localStorage.getItem(KEY) ?? '');
    return kept || null;
  } catch {
    return null; // storage blocked: no name kept
  }
}

/** Keeps `name` (cleaned); an empty one forgets it. Returns what was kept. */
export function saveVolunteerName(name: string): string | null {
  const clean = cleanName(name);
  try {
    if (clean) localStorage.setItem(KEY, clean);
    else localStorage.removeItem(KEY);
  } catch {
    // storage blocked: the name lasts for this visit only
  }
  return clean || null;
}
