/**
 * Writes to the shared PostgreSQL store tried again when their connection was cut
 * (store/postgres/pg-write.ts): which errors count as a cut, and that a write that
 * did commit before the cut is not written twice.
 */
import { describe, expect, test } from 'vitest';
import {
  isTransient,
  retryTransient,
} from '../../../server/master/store/postgres/pg-write.js';

/** An error as the pg driver gives it: a SQLSTATE in `code`. */
function sqlError(code: string, message = 'server said no'): Error {
  return Object.assign(new Error(message), { code, severity: 'FATAL' });
}

describe('isTransient', () => {
  test('a cut connection or a session the server ended', () => {
    expect(isTransient(new Error('Connection terminated unexpectedly'))).toBe(
      true,
    );
    expect(
      isTransient(Object.assign(new Error('x'), { code: 'ECONNRESET' })),
    ).toBe(true);
    expect(
      isTransient(
        sqlError(
          '25P03',
          'terminating connection due to idle-in-transaction timeout',
        ),
      ),
    ).toBe(true);
    expect(isTransient(sqlError('57P01'))).toBe(true);
    expect(isTransient(sqlError('08006'))).toBe(true);
    expect(isTransient(sqlError('40P01'))).toBe(true);
  });

  test('not a refused write, nor a bug', () => {
    expect(isTransient(sqlError('23505', 'duplicate key'))).toBe(false);
    expect(isTransient(sqlError('42601', 'syntax error'))).toBe(false);
    expect(isTransient(new Error('job j1 is sealed'))).toBe(false);
    expect(isTransient('a string')).toBe(false);
  });
});

describe('retryTransient', () => {
  test('tries again after a cut, and returns what the retry wrote', async () => {
    let tries = 0;
    const value = await retryTransient(
      async () => {
        tries++;
        if (tries === 1) throw new Error('Connection terminated unexpectedly');
        return 'written';
      },
      () => Promise.resolve(undefined),
    );
    expect(value).toBe('written');
    expect(tries).toBe(2);
  });

  test('a write found committed after the cut is not written again', async () => {
    let tries = 0;
    const value = await retryTransient(
      async () => {
        tries++;
        throw new Error('Connection terminated unexpectedly');
      },
      () => Promise.resolve('already there'),
    );
    expect(value).toBe('already there');
    expect(tries).toBe(1);
  });

  test('other errors and repeated cuts are thrown', async () => {
    let tries = 0;
    await expect(
      retryTransient(
        async () => {
          tries++;
          throw sqlError('23505', 'duplicate key');
        },
        () => Promise.resolve(undefined),
      ),
    ).rejects.toThrow('duplicate key');
    expect(tries).toBe(1);
    tries = 0;
    await expect(
      retryTransient(
        async () => {
          tries++;
          throw new Error('Connection terminated unexpectedly');
        },
        () => Promise.resolve(undefined),
      ),
    ).rejects.toThrow('terminated');
    expect(tries).toBe(3);
  });
});
