/**
 * Masters' presence rows: each master's heartbeat renews all its claims at once, and
 * publishes its workers' summary for every dashboard of the fleet.
 */
import type pg from 'pg';
import type { MasterPresence } from './cluster-store.js';
import { inTransaction } from './sql-util.js';

export async function heartbeat(
  pool: pg.Pool,
  master: string,
  address: string,
  workers: unknown,
): Promise<{ lapsed: boolean }> {
  return inTransaction(pool, async (client) => {
    // Locks the row first: a takeover that marked it lapsed has committed by then.
    const { rows } = await client.query<{ lapsed: boolean }>(
      'SELECT lapsed FROM masters WHERE id = $1 FOR UPDATE',
      [master],
    );
    await client.query(
      `INSERT INTO masters (id, address, heartbeat_at, lapsed, workers)
       VALUES ($1, $2, clock_timestamp(), false, $3)
       ON CONFLICT (id) DO UPDATE SET address = excluded.address,
         heartbeat_at = excluded.heartbeat_at, lapsed = false, workers = excluded.workers`,
      [master, address, JSON.stringify(workers ?? null)],
    );
    const lapsed = rows[0]?.lapsed ?? false;
    // Stale but not yet taken over: its claims are still its own (tokens unchanged).
    // Taken over: the master drops all it holds, so whatever claims it still has (a
    // claim that committed just after the takeover) go back to the queue now.
    if (lapsed) {
      await client.query(
        `UPDATE tasks SET state = 0, claimed_by = NULL, token = NULL, claimed_at = NULL
         WHERE state = 1 AND claimed_by = $1`,
        [master],
      );
    }
    return { lapsed };
  });
}

export async function liveMasters(
  pool: pg.Pool,
  ttlMs: number,
): Promise<MasterPresence[]> {
  const { rows } = await pool.query<{
    id: string;
    address: string;
    heartbeat_ms: string;
    started_ms: string;
    workers: unknown;
  }>(
    `SELECT id, address, workers,
       (extract(epoch from heartbeat_at) * 1000)::bigint AS heartbeat_ms,
       (extract(epoch from started_at) * 1000)::bigint AS started_ms
     FROM masters
     WHERE NOT lapsed AND heartbeat_at >= clock_timestamp() - $1 * interval '1 millisecond'
     ORDER BY id`,
    [ttlMs],
  );
  return rows.map((r) => ({
    id: r.id,
    address: r.address,
    heartbeatAt: Number(r.heartbeat_ms),
    startedAt: Number(r.started_ms),
    workers: r.workers,
  }));
}

export async function leave(pool: pg.Pool, master: string): Promise<void> {
  await pool.query('DELETE FROM masters WHERE id = $1', [master]);
}
