/**
 * A real master whose group commits fail: a trigger, added to its real SQLite file from
 * outside, aborts the writes it names until the test drops it.
 */
import path from 'node:path';
import Database from 'better-sqlite3';
import { onTestFinished } from 'vitest';
import { ColonyClient } from '../../server/client/index.js';
import {
  fixtureModule,
  spawnMaster,
  tempDir,
  waitForOutput,
  type ChildHandle,
} from './master.js';

export interface FaultyMaster {
  master: ChildHandle & { url: string };
  /** A second connection to the master's colony.db (closed when the test ends). */
  db: Database.Database;
  client: ColonyClient;
  /** The id of a job of `n` squares of `{ x }`, submitted once the fault is in place. */
  id: string;
  n: number;
}

/** Starts a master, adds `triggers` (SQL) to its database, submits 40 squares. */
export async function masterWithFault(triggers: string): Promise<FaultyMaster> {
  const dataDir = tempDir();
  const master = await spawnMaster(dataDir, ['--log-level', 'info']);
  const db = new Database(path.join(dataDir, 'colony.db'), {
    fileMustExist: true,
  });
  onTestFinished(() => {
    db.close();
  });
  db.pragma('busy_timeout = 5000');
  db.exec(triggers);
  const client = new ColonyClient({
    url: master.url,
    token: 'test-token-0123456789',
  });
  const module = await fixtureModule('square.mjs');
  const n = 40;
  const inputs = Array.from({ length: n }, (_, x) => ({ x }));
  const { id } = await client.submit({ name: 'faulty', module, inputs });
  return { master, db, client, id, n };
}

/**
 * Resolves once the scheduler has counted every task done (its log, before any commit)
 * and at least one commit has failed meanwhile.
 */
export async function jobEndedThroughFailedCommits(
  master: ChildHandle,
): Promise<void> {
  await waitForOutput(
    master,
    (text) =>
      text.includes('"msg":"job finished"') &&
      text.includes('store commit failed'),
    'stderr',
  );
}
