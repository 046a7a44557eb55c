/**
 * The master's data dir is private: the dir 0700, the files in it 0600 (the SQLite
 * database with its -wal and -shm, and the token). It holds every job's code, inputs
 * and results and the admin token, so no other user of the machine may read it.
 */
import { randomBytes } from 'node:crypto';
import {
  chmodSync,
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readFileSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import path from 'node:path';
import { AppError, ErrorCode } from '../../shared/errors.js';

/** Shortest accepted token: shorter ones can be guessed. */
export const MIN_TOKEN_LENGTH = 16;

/** Where a loose mode was found and tightened; the caller logs it. */
export type Warn = (message: string, detail: Record<string, unknown>) => void;

const DIR_MODE = 0o700;
const FILE_MODE = 0o600;
const DATABASE_FILES = ['colony.db', 'colony.db-wal', 'colony.db-shm'];

function isLoose(file: string): boolean {
  return (statSync(file).mode & 0o077) !== 0;
}

function modeOf(file: string): string {
  return (statSync(file).mode & 0o777).toString(8).padStart(3, '0');
}

/** Creates `dir` 0700, or tightens it (with a warning) if others may read or enter it. */
export function prepareDataDir(dir: string, warn: Warn): void {
  mkdirSync(dir, { recursive: true, mode: DIR_MODE });
  if (isLoose(dir)) {
    warn('data dir was readable by others: made private (0700)', {
      dataDir: dir,
      was: modeOf(dir),
    });
    chmodSync(dir, DIR_MODE);
  }
}

/**
 * Before SQLite opens the database: creates an empty `colony.db` 0600 (SQLite gives
 * its -wal and -shm the database file's mode) and tightens files left loose by an
 * older master.
 */
export function prepareDatabaseFiles(dir: string): void {
  const database = path.join(dir, 'colony.db');
  // 'a' creates the file if missing and never truncates an existing one.
  if (!existsSync(database)) closeSync(openSync(database, 'a', FILE_MODE));
  for (const name of DATABASE_FILES) {
    const file = path.join(dir, name);
    if (existsSync(file) && isLoose(file)) chmodSync(file, FILE_MODE);
  }
}

/** Refuses a token that is too short to stand against guessing. */
export function checkTokenLength(token: string, from: string): void {
  if (token.length < MIN_TOKEN_LENGTH)
    throw new AppError(
      ErrorCode.InvalidArgument,
      `${from} must be at least ${MIN_TOKEN_LENGTH} characters (it has ${token.length})`,
    );
}

/**
 * The token: `explicit`, else COLONY_TOKEN, else kept in `<dataDir>/token` (32 random
 * bytes, generated on first start, 0600). A kept file that others can read is
 * tightened with a warning: the token may have leaked and should be replaced.
 */
export function resolveToken(
  explicit: string | undefined,
  dataDir: string,
  warn: Warn,
): string {
  const given = explicit ?? process.env.COLONY_TOKEN;
  if (given) return given;
  const file = path.join(dataDir, 'token');
  if (existsSync(file)) {
    if (isLoose(file)) {
      warn(
        'token file was readable by others: made 0600; replace the token if others could log in here',
        { file, was: modeOf(file) },
      );
      chmodSync(file, FILE_MODE);
    }
    const kept = readFileSync(file, 'utf8').trim();
    if (kept) return kept;
  }
  mkdirSync(dataDir, { recursive: true, mode: DIR_MODE });
  const token = randomBytes(32).toString('base64url');
  writeFileSync(file, `${token}\n`, { mode: FILE_MODE });
  return token;
}
