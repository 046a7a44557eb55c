/**
 * `colony backup FILE [--data DIR]`: an online copy of the master's SQLite store, taken
 * while the master runs. SQLite's online backup API copies every page inside one read
 * transaction, so the copy holds exactly the commits made before it began: a master
 * started on it (as `<dir>/colony.db`) serves every job and result committed by then.
 */
import { closeSync, existsSync, openSync, renameSync, rmSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { AppError, ErrorCode } from '../../shared/errors.js';
import type { Flags } from './flags.js';

/** Pages per backup step: all of them, so that the copy is one read transaction. */
const ALL_PAGES = 0x7fffffff;

export interface BackupResult {
  file: string;
  pages: number;
  bytes: number;
}

function invalid(message: string): never {
  throw new AppError(ErrorCode.InvalidArgument, message);
}

/**
 * Copies `<dataDir>/colony.db` to `target` (which must not exist yet), readable by the
 * owner only, and checks the copy with `PRAGMA integrity_check` before naming it.
 */
export async function backupStore(
  dataDir: string,
  target: string,
): Promise<BackupResult> {
  const source = path.resolve(dataDir, 'colony.db');
  const file = path.resolve(target);
  if (!existsSync(source))
    invalid(`no SQLite store at ${source}; pass the master's --data DIR`);
  if (existsSync(file))
    invalid(`${file} exists; choose a new file (a backup never overwrites)`);
  if (!existsSync(path.dirname(file)))
    invalid(`the directory ${path.dirname(file)} does not exist`);
  const partial = `${file}.partial-${process.pid}`;
  // Created empty with mode 0600 first: SQLite keeps an existing file's permissions.
  closeSync(openSync(partial, 'wx', 0o600));
  try {
    // Not readonly: a read-only handle cannot open a WAL store whose -shm is gone.
    const db = new Database(source, { fileMustExist: true });
    let pages = 0;
    try {
      // The master holds the write lock only for a commit; wait that out.
      db.pragma('busy_timeout = 10000');
      const progress = await db.backup(partial, {
        // The first step only counts pages; the next copies them all at once. A copy
        // in small steps would restart whenever the master commits in between.
        progress: () => ALL_PAGES,
      });
      pages = progress.totalPages;
    } finally {
      db.close();
    }
    const copy = new Database(partial, { fileMustExist: true });
    let bytes = 0;
    try {
      const check = copy.pragma('integrity_check', { simple: true });
      if (check !== 'ok')
        throw new Error(`the copy failed integrity_check: ${String(check)}`);
      // One self-contained file: fold any WAL the check opened back in.
      copy.pragma('wal_checkpoint(TRUNCATE)');
      bytes =
        (copy.pragma('page_count', { simple: true }) as number) *
        (copy.pragma('page_size', { simple: true }) as number);
    } finally {
      copy.close();
    }
    renameSync(partial, file);
    return { file, pages, bytes };
  } catch (error) {
    for (const leftover of [partial, `${partial}-wal`, `${partial}-shm`])
      rmSync(leftover, { force: true });
    throw error;
  }
}

export async function runBackup(target: string, flags: Flags): Promise<void> {
  if (flags.store && flags.store !== 'sqlite')
    invalid(
      'colony backup copies the SQLite store; for PostgreSQL use pg_dump (see docs/deploy.md)',
    );
  const result = await backupStore(flags.data ?? './colony-data', target);
  process.stdout.write(
    `colony backup: ${result.file} (${result.pages} pages, ${result.bytes} bytes, integrity ok)\n`,
  );
}
