/** The `--store` flag's PostgreSQL form, apart from the driver (the CLI loads it eagerly). */
import * as z from 'zod';

/** A `--store` value naming PostgreSQL: postgres://USER[:PASSWORD]@HOST[:PORT]/DB. */
export const PostgresUrl = z
  .string()
  .max(2_000)
  .refine((value) => {
    try {
      const url = new URL(value);
      return (
        (url.protocol === 'postgres:' || url.protocol === 'postgresql:') &&
        url.hostname !== '' &&
        url.pathname.length > 1
      );
    } catch {
      return false;
    }
  }, 'expected postgres://USER@HOST:PORT/DATABASE');
