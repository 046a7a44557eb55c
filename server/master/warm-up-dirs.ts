/**
 * The temporary directories of the start-up rehearsal's throwaway masters. Each is
 * removed when its rehearsal ends; a master killed during one (kill -9, a crash) leaves
 * its directory behind, so each start also removes those of masters that are gone.
 */
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const PREFIX = 'colony-warm-up-';

/**
 * Age past which a rehearsal's directory is left over: a rehearsal stops after 30 s,
 * and this leaves room for a clock set back or a slow file system.
 */
export const STALE_MS = 60 * 60 * 1000;

/** A new directory for one throwaway master, named after this process. */
export function makeRehearsalDir(tmp: string = os.tmpdir()): string {
  return mkdtempSync(path.join(tmp, `${PREFIX}${process.pid}-`));
}

/** Whether a process `pid` exists (EPERM: it does, someone else's). */
function processExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Removes the rehearsal directories in `tmp` that are older than {@link STALE_MS} and
 * whose master is not running (or, named before masters put their pid in the name,
 * unknown); returns their paths. A pid taken again by another process keeps its
 * directory until that one ends: a leftover kept is harmless, a live one removed is not.
 */
export function removeStaleRehearsalDirs(
  tmp: string = os.tmpdir(),
  now: number = Date.now(),
  exists: (pid: number) => boolean = processExists,
): string[] {
  const removed: string[] = [];
  for (const name of readdirSync(tmp)) {
    if (!name.startsWith(PREFIX)) continue;
    const pid = /^(\d+)-/.exec(name.slice(PREFIX.length))?.[1];
    if (
      pid !== undefined &&
      (Number(pid) === process.pid || exists(Number(pid)))
    )
      continue;
    const dir = path.join(tmp, name);
    try {
      const stat = statSync(dir);
      if (!stat.isDirectory() || now - stat.mtimeMs < STALE_MS) continue;
      rmSync(dir, { recursive: true, force: true });
      removed.push(dir);
    } catch {
      // Gone meanwhile, or not ours to remove: left as it is.
    }
  }
  return removed;
}
