/**
 * Transactions of statements built beforehand (store/postgres/pg-write.ts) on a real
 * PostgreSQL: a submit's transaction allows itself a longer idle limit than the pool's
 * 2 s, for itself only, and a failing statement leaves nothing behind.
 */
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { transaction } from '../../server/master/store/postgres/pg-write.js';
import {
  testPool,
  usePostgres,
  type TestPostgres,
} from '../helpers/postgres.js';

let db: TestPostgres;
let pool: pg.Pool;

beforeAll(async () => {
  db = await usePostgres();
  // As the cluster store's pool: one connection, so every query shares its session.
  pool = testPool(db.url, { idle_in_transaction_session_timeout: 2_000 });
  await pool.query('CREATE TABLE t (k int PRIMARY KEY)');
});

afterAll(async () => {
  await pool.end();
  await db.stop();
});

const idleLimit = {
  text: "SELECT current_setting('idle_in_transaction_session_timeout') AS v",
};

describe('transaction', () => {
  test('the idle limit it asks for holds inside it only', async () => {
    const [inside] = await transaction(pool, [idleLimit], 60_000);
    expect(inside?.rows[0]).toEqual({ v: '1min' });
    const [plain] = await transaction(pool, [idleLimit]);
    expect(plain?.rows[0]).toEqual({ v: '2s' });
    const after = await pool.query(idleLimit.text);
    expect(after.rows[0]).toEqual({ v: '2s' });
  });

  test('a failing statement rolls back the ones before it', async () => {
    await expect(
      transaction(
        pool,
        [
          { text: 'INSERT INTO t (k) VALUES ($1)', values: [1] },
          { text: 'INSERT INTO t (k) VALUES ($1)', values: [1] },
        ],
        60_000,
      ),
    ).rejects.toThrow(/duplicate key/);
    const { rows } = await pool.query('SELECT count(*)::int AS n FROM t');
    expect(rows[0]).toEqual({ n: 0 });
    const [inserted] = await transaction(pool, [
      {
        text: 'INSERT INTO t (k) VALUES ($1), ($2) RETURNING k',
        values: [1, 2],
      },
    ]);
    expect(inserted?.rowCount).toBe(2);
  });
});
