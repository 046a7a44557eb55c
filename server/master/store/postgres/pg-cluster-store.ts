/**
 * {@link ClusterStore} on PostgreSQL (the `pg` package): a connection pool for the
 * operations, the schema migrated on open. The SQL lives in one file per concern:
 * pg-jobs (jobs and modules), pg-claims (claims and takeover), pg-records (outcomes and
 * results), pg-presence (masters). Hints (LISTEN/NOTIFY) are a separate
 * {@link ClusterListener} on its own connection.
 */
import pg from 'pg';
import type { JobState } from '../../../../shared/protocol.js';
import type { JobId, JobSpec } from '../../scheduler/types.js';
import type { EncodedValue, StoredResult } from '../store.js';
import type {
  ClaimedTask,
  ClaimRef,
  ClusterStore,
  JobRow,
  ListJobsQuery,
  MasterPresence,
  RecordBatchResult,
  RecordEntry,
} from './cluster-store.js';
import { migrate } from './migrations.js';
import { PostgresUrl } from './postgres-url.js';
import * as claims from './pg-claims.js';
import * as jobs from './pg-jobs.js';
import * as presence from './pg-presence.js';
import * as records from './pg-records.js';

export { PostgresUrl };

export interface PgClusterStoreOptions {
  url: string;
  /** Pooled connections of this master. @defaultValue 8 */
  poolSize?: number;
  /** Called with errors of idle pooled connections (the pool replaces them). */
  onError?: (error: Error) => void;
}

export class PgClusterStore implements ClusterStore {
  readonly #pool: pg.Pool;

  private constructor(pool: pg.Pool) {
    this.#pool = pool;
  }

  /** Connects, applies missing migrations, and returns the store. */
  static async open(options: PgClusterStoreOptions): Promise<PgClusterStore> {
    const url = PostgresUrl.parse(options.url);
    const pool = new pg.Pool({
      connectionString: url,
      max: options.poolSize ?? 8,
      // A master stopped (SIGSTOP, a long pause) inside a transaction would hold its
      // row locks, and block every other master's takeover and records, until it
      // resumed: the server ends such a session well within the claim TTL instead.
      idle_in_transaction_session_timeout: 2_000,
    });
    // An idle connection that drops emits here; without a handler it would crash.
    pool.on('error', (error) => options.onError?.(error));
    try {
      await migrate(pool);
    } catch (error) {
      await pool.end();
      throw error;
    }
    return new PgClusterStore(pool);
  }

  putModule(hash: string, source: string): Promise<void> {
    return jobs.putModule(this.#pool, hash, source);
  }
  getModule(hash: string): Promise<string | undefined> {
    return jobs.getModule(this.#pool, hash);
  }
  createJob(spec: JobSpec, inputs: readonly EncodedValue[]): Promise<void> {
    return jobs.createJob(this.#pool, spec, inputs);
  }
  appendInputs(
    jobId: JobId,
    firstIndex: number,
    inputs: readonly EncodedValue[],
  ): Promise<void> {
    return jobs.appendInputs(this.#pool, jobId, firstIndex, inputs);
  }
  sealJob(jobId: JobId): Promise<boolean> {
    return jobs.sealJob(this.#pool, jobId);
  }
  cancelJob(jobId: JobId): Promise<boolean> {
    return jobs.cancelJob(this.#pool, jobId);
  }
  purgeJob(jobId: JobId): Promise<boolean> {
    return jobs.purgeJob(this.#pool, jobId);
  }
  getJob(jobId: JobId): Promise<JobRow | undefined> {
    return jobs.getJob(this.#pool, jobId);
  }
  listJobs(query: ListJobsQuery): Promise<JobRow[]> {
    return jobs.listJobs(this.#pool, query);
  }
  countJobs(state?: JobState): Promise<number> {
    return jobs.countJobs(this.#pool, state);
  }
  endedBefore(ageMs: number, limit: number): Promise<JobId[]> {
    return jobs.endedBefore(this.#pool, ageMs, limit);
  }

  claim(master: string, limit: number, jobId?: JobId): Promise<ClaimedTask[]> {
    return claims.claim(this.#pool, master, limit, jobId);
  }
  release(master: string, refs: readonly ClaimRef[]): Promise<number> {
    return claims.release(this.#pool, master, refs);
  }
  releaseAll(master: string): Promise<number> {
    return claims.releaseAll(this.#pool, master);
  }
  takeOverExpired(ttlMs: number): Promise<number> {
    return claims.takeOverExpired(this.#pool, ttlMs);
  }

  recordBatch(
    master: string,
    entries: readonly RecordEntry[],
  ): Promise<RecordBatchResult> {
    return records.recordBatch(this.#pool, master, entries);
  }
  readResults(
    jobId: JobId,
    afterSeq: number,
    limit: number,
  ): Promise<StoredResult[]> {
    return records.readResults(this.#pool, jobId, afterSeq, limit);
  }

  heartbeat(
    master: string,
    address: string,
    workers: unknown,
  ): Promise<{ lapsed: boolean }> {
    return presence.heartbeat(this.#pool, master, address, workers);
  }
  liveMasters(ttlMs: number): Promise<MasterPresence[]> {
    return presence.liveMasters(this.#pool, ttlMs);
  }
  leave(master: string): Promise<void> {
    return presence.leave(this.#pool, master);
  }

  async close(): Promise<void> {
    await this.#pool.end();
  }
}
