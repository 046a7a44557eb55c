/**
 * The SQLite file of the store: its schema, the pragmas it is opened with, and the
 * versioned migrations that bring an older file up to the schema of this colony.
 */
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { ErrorCode } from '../../../shared/errors.js';
import type { EncodedValue } from './store.js';
import { ChunkWriter, prepareChunkInserts } from './sqlite-chunk-writer.js';
import { CHECKPOINTS_SCHEMA } from './sqlite-checkpoints.js';

/**
 * Bumped on any change of the schema below. A file of version 1 to 6 is migrated on open
 * (see {@link migrate}); a file of any other version is refused.
 */
export const SCHEMA_VERSION = 7;

// Volunteers' totals (schema 6), one row per volunteer key. No index on the totals
// (schema 7 dropped those of 6): each changes with every commit that credits the
// volunteer, so each index cost one more page written per commit; pages and ranks are
// answered from memory (volunteer-rows.ts).
const VOLUNTEERS_SCHEMA = `
CREATE TABLE IF NOT EXISTS volunteers (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  kind TEXT NOT NULL,
  tasks INTEGER NOT NULL,
  busy_ms REAL NOT NULL,
  first_seen INTEGER NOT NULL,
  last_seen INTEGER NOT NULL
) WITHOUT ROWID;
DROP INDEX IF EXISTS volunteers_tasks;
DROP INDEX IF EXISTS volunteers_busy;
DROP INDEX IF EXISTS volunteers_seen;
`;

// Integer job keys (`jid`) keep the per-task rows small: a 1,000,000-task job would
// otherwise repeat its id string in every input and result row and index entry.
// `value`/`output` are declared BLOB because BLOB affinity converts nothing: a text
// value stays TEXT (the input '42' must not turn into the integer 42) and bytes stay BLOB.
//
// `inputs` holds chunks of consecutive inputs, tasks first..first+count-1 (see
// {@link ChunkWriter}): a row of count 1 is that input as is (text or bytes); a row of
// count > 1 is the inputs' texts joined with '\n', which none of them contains.
// Not WITHOUT ROWID: a chunk row is kilobytes, and in a WITHOUT ROWID (index) B-tree
// every key comparison of a seek on a row that overflows its page reads the whole row
// (measured: 20 us a seek, against 3 us through the small (jid, first) index and the
// rowid table, whose interior pages hold only integers). The index costs one entry per
// chunk, not per input.
// `results` is keyed by (jid, seq), seq assigned by the store, so that a job's results
// are read in seq order from the table itself; UNIQUE (jid, idx) makes the first result
// of a task win (INSERT OR IGNORE). Two B-trees per result row, no rowid.
const SCHEMA = `
CREATE TABLE IF NOT EXISTS modules (
  hash TEXT PRIMARY KEY,
  source TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS jobs (
  jid INTEGER PRIMARY KEY,
  id TEXT NOT NULL UNIQUE,
  spec TEXT NOT NULL,
  task_count INTEGER NOT NULL,
  sealed INTEGER NOT NULL,
  state TEXT NOT NULL,
  finished_at INTEGER
);
CREATE TABLE IF NOT EXISTS inputs (
  jid INTEGER NOT NULL,
  first INTEGER NOT NULL,
  count INTEGER NOT NULL,
  value BLOB NOT NULL,
  PRIMARY KEY (jid, first)
);
CREATE TABLE IF NOT EXISTS results (
  jid INTEGER NOT NULL,
  seq INTEGER NOT NULL,
  idx INTEGER NOT NULL,
  ok INTEGER NOT NULL,
  output BLOB,
  error TEXT,
  code TEXT,
  PRIMARY KEY (jid, seq),
  UNIQUE (jid, idx)
) WITHOUT ROWID;
${CHECKPOINTS_SCHEMA}`;

/**
 * Opens (creating if missing) `<dir>/colony.db` in WAL mode and brings it to
 * {@link SCHEMA_VERSION}; closes it again if that fails.
 */
export function openDatabase(
  dir: string,
  fsync: 'normal' | 'full',
): Database.Database {
  fs.mkdirSync(dir, { recursive: true });
  const db = new Database(path.join(dir, 'colony.db'));
  try {
    // Freed pages go back to the file system on `incremental_vacuum` after a purge. On a
    // new file this takes effect at once; an older file needs one VACUUM (see migrate).
    db.pragma('auto_vacuum = INCREMENTAL');
    db.pragma('journal_mode = WAL');
    // In WAL mode NORMAL loses no commit when the process dies (the WAL is written
    // before COMMIT returns); only FULL fsyncs it against power loss.
    db.pragma(`synchronous = ${fsync === 'full' ? 'FULL' : 'NORMAL'}`);
    db.pragma('busy_timeout = 5000');
    // Integrity of job references is checked in memory before anything is queued,
    // so that one bad call throws at its caller instead of failing a group commit.
    db.pragma('foreign_keys = OFF');
    db.pragma('cache_size = -16384');
    db.pragma('temp_store = MEMORY');
    // Keeps the WAL file from staying huge after a burst of inputs.
    db.pragma('journal_size_limit = 67108864');
    migrate(db);
  } catch (error) {
    db.close();
    throw error;
  }
  return db;
}

/** Old input rows read per query when a version 1 file is migrated. */
const MIGRATION_PAGE = 4096;

function migrate(db: Database.Database): void {
  const version = db.pragma('user_version', { simple: true }) as number;
  if (version === SCHEMA_VERSION) return;
  if (version < 0 || version > 6) {
    throw new Error(
      `${db.name} has schema version ${version}; this colony expects ${SCHEMA_VERSION}`,
    );
  }
  // One transaction: a migration that fails (or a process killed during it) leaves the
  // file at its old version, as it was.
  db.transaction(() => {
    if (version === 0) db.exec(SCHEMA);
    else if (version < 3) {
      if (version === 1) migrateFrom1(db);
      else db.exec('ALTER TABLE results ADD COLUMN code TEXT');
      codeOldFailures(db);
    }
    // Version 5 added the checkpoints table (sqlite-checkpoints.ts).
    db.exec(CHECKPOINTS_SCHEMA);
    // Version 4 added the job states 'purging' and 'purged' (sqlite-purge.ts), which an
    // older colony would take for jobs: the version keeps it from opening the file.
    // Version 6 added the volunteers' totals; 7 dropped their indexes.
    db.exec(VOLUNTEERS_SCHEMA);
    db.pragma(`user_version = ${SCHEMA_VERSION}`);
  })();
  enableIncrementalVacuum(db);
}

/**
 * Files made before version 4 were in auto_vacuum NONE: switching an existing file
 * takes one VACUUM (a rewrite of the file, outside any transaction). Done once, here.
 */
function enableIncrementalVacuum(db: Database.Database): void {
  const INCREMENTAL = 2;
  if (db.pragma('auto_vacuum', { simple: true }) === INCREMENTAL) return;
  db.pragma('auto_vacuum = INCREMENTAL');
  db.exec('VACUUM');
}

/**
 * Schema 3 gave failures a code. Older failure rows get theirs from the message the
 * master wrote for each kind (see the scheduler); any other message was a task's own.
 */
function codeOldFailures(db: Database.Database): void {
  db.exec(`
    UPDATE results SET code = CASE
      WHEN error LIKE 'killed its worker % times; last: %' THEN '${ErrorCode.TaskKilledWorkers}'
      WHEN error LIKE 'dispatched % times without a result' THEN '${ErrorCode.TooManyDispatches}'
      WHEN error LIKE 'replicas disagree: %' THEN '${ErrorCode.ReplicasDisagree}'
      ELSE '${ErrorCode.TaskFailed}' END
    WHERE ok = 0 AND code IS NULL
  `);
}

/**
 * Version 1 had one `inputs` row per task, (jid, idx, value), and `results` keyed by a
 * rowid seq with UNIQUE (jid, idx) and an index (jid, seq). The old inputs are read in
 * pages (a big job is never in memory at once) and rewritten as chunks; results are
 * copied with their seq, so that readers' cursors stay valid.
 */
function migrateFrom1(db: Database.Database): void {
  db.exec(`
    ALTER TABLE inputs RENAME TO inputs_v1;
    ALTER TABLE results RENAME TO results_v1;
  `);
  db.exec(SCHEMA);
  const insertChunks = prepareChunkInserts(db);
  const nextJid = db
    .prepare<[number], number>(
      'SELECT jid FROM inputs_v1 WHERE jid > ? ORDER BY jid LIMIT 1',
    )
    .pluck();
  const page = db
    .prepare<[number, number, number], [idx: number, value: EncodedValue]>(
      'SELECT idx, value FROM inputs_v1 WHERE jid = ? AND idx >= ? ORDER BY idx LIMIT ?',
    )
    .raw();
  for (
    let jid = nextJid.get(Number.MIN_SAFE_INTEGER);
    jid !== undefined;
    jid = nextJid.get(jid)
  ) {
    const writer = new ChunkWriter(insertChunks, jid);
    for (let from = Number.MIN_SAFE_INTEGER; ;) {
      const rows = page.all(jid, from, MIGRATION_PAGE);
      for (const [idx, value] of rows) writer.push(idx, value);
      if (rows.length < MIGRATION_PAGE) break;
      from = rows[rows.length - 1]![0] + 1;
    }
    writer.end();
  }
  db.exec(`
    INSERT INTO results (jid, seq, idx, ok, output, error)
      SELECT jid, seq, idx, ok, output, error FROM results_v1 ORDER BY jid, seq;
    DROP TABLE inputs_v1;
    DROP TABLE results_v1;
  `);
}
