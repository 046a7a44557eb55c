/**
 * A real PostgreSQL for tests. With `COLONY_TEST_PG_URL` set (by
 * `node scripts/ensure-postgres.mjs -- CMD`), tests share that server and each call gets
 * a fresh database on it; otherwise each call starts a private cluster (about 2-4 s).
 * Either way `stop()` removes what the call made.
 */
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import pg from 'pg';

interface EnsurePostgres {
  startPostgres: (options?: {
    durable?: boolean;
  }) => Promise<{ url: string; stop: () => void }>;
}

/** The plain-JS script (also run by CI as is), loaded with the types it documents. */
async function loadScript(): Promise<EnsurePostgres> {
  const script = path.resolve(
    import.meta.dirname,
    '../../scripts/ensure-postgres.mjs',
  );
  return (await import(pathToFileURL(script).href)) as EnsurePostgres;
}

export interface TestPostgres {
  /** postgres://colony@127.0.0.1:PORT/DB of an empty database. */
  url: string;
  /** Another empty database on the same server (dropped by `stop()`). */
  another: () => Promise<string>;
  stop: () => Promise<void>;
}

/**
 * A pool for a test's own queries. Its 'error' handler matters: `pool.end()` resolves
 * before its connections have closed, and one cut meanwhile (a database dropped WITH
 * (FORCE) after the test) is emitted on the pool, an uncaught exception without one.
 */
export function testPool(
  url: string,
  options: Omit<pg.PoolConfig, 'connectionString'> = {},
): pg.Pool {
  const pool = new pg.Pool({ connectionString: url, max: 1, ...options });
  pool.on('error', () => undefined);
  return pool;
}

async function onServer<T>(
  serverUrl: string,
  fn: (client: pg.Client) => Promise<T>,
): Promise<T> {
  const client = new pg.Client({ connectionString: serverUrl });
  client.on('error', () => undefined);
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/** A fresh, empty database; call in `beforeAll` and `stop()` it in `afterAll`. */
export async function usePostgres(): Promise<TestPostgres> {
  const shared = process.env.COLONY_TEST_PG_URL;
  const cluster =
    shared === undefined || shared === ''
      ? await (await loadScript()).startPostgres()
      : undefined;
  const server = cluster?.url ?? shared!;
  const made: string[] = [];
  const another = async () => {
    const name = `colony_test_${randomBytes(6).toString('hex')}`;
    await onServer(server, (c) => c.query(`CREATE DATABASE ${name}`));
    made.push(name);
    const url = new URL(server);
    url.pathname = `/${name}`;
    return url.toString();
  };
  const stop = async () => {
    if (cluster !== undefined) {
      cluster.stop();
      return;
    }
    await onServer(server, async (c) => {
      for (const name of made.splice(0)) {
        await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      }
    });
  };
  try {
    return { url: await another(), another, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}
