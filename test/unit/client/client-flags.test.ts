/**
 * The zod-free check of the client commands' flags only lets through what the full
 * schema accepts too; anything else is left (null) to the schema and its messages.
 */
import { describe, expect, test } from 'vitest';
import { clientFlags } from '../../../server/commands/client-flags.js';
import { Flags } from '../../../server/commands/flags.js';

describe('client command flags without zod', () => {
  test('plain flags pass, as the schema would pass them', () => {
    const values = {
      url: 'http://127.0.0.1:8080',
      token: 'secret-token-0123456789',
      out: 'results.ndjson',
      data: './colony-data',
      'log-level': 'warn',
    };
    expect(clientFlags(values)).toEqual(values);
    expect(Flags.safeParse(values).success).toBe(true);
    expect(clientFlags({})).toEqual({});
  });

  test.each([
    { url: 'nope' },
    { url: 'ftp://127.0.0.1/' },
    { url: 'http://exa mple.org/' },
    { token: '' },
    { out: '' },
    { 'log-level': 'loud' },
    { threads: '2' },
    { help: true },
  ])('%o goes to the schema', (values) => {
    expect(clientFlags(values)).toBeNull();
  });
});
