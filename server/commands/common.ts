/** Helpers shared by the commands: where the master is, and which token to use. */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { ColonyClient } from '../client/index.js';
import type { Flags } from './flags.js';

export const DEFAULT_URL = 'http://127.0.0.1:8080';

/** --token, else COLONY_TOKEN, else the token a local master keeps in ./colony-data. */
export function tokenFrom(flags: Flags): string | undefined {
  if (flags.token) return flags.token;
  if (process.env.COLONY_TOKEN) return process.env.COLONY_TOKEN;
  const file = path.resolve(flags.data ?? './colony-data', 'token');
  return existsSync(file)
    ? readFileSync(file, 'utf8').trim() || undefined
    : undefined;
}

export function clientFrom(flags: Flags): ColonyClient {
  const token = tokenFrom(flags);
  return new ColonyClient({
    url: flags.url ?? DEFAULT_URL,
    ...(token ? { token } : {}),
  });
}

/** Prints the URLs a master serves (stdout: the lines tests and scripts read). */
export function printMasterBanner(url: string, token: string): void {
  process.stdout.write(
    `colony master ready\n` +
      `  dashboard: ${url}/\n` +
      `  volunteer: ${url}/volunteer\n` +
      `  token:     ${token}\n` +
      `  workers:   npx colony worker ${url}\n`,
  );
}
