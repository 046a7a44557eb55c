/**
 * Fetches a task module's text from the master and checks that it is what its name
 * claims: the SHA-256 (hex) of the text must equal the hash the task asked for. A module
 * that fails the check is refused loudly; its tasks fail and go to other workers.
 */
import { createHash } from 'node:crypto';

/** Largest module text accepted (the master's own limit is far below). */
const MAX_MODULE_BYTES = 64 * 1024 * 1024;
const HASH = /^[0-9a-f]{64}$/;

export class ModuleHashMismatch extends Error {}

export function sha256Hex(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

export async function fetchModule(base: URL, hash: string): Promise<string> {
  if (!HASH.test(hash))
    throw new Error(`${JSON.stringify(hash)} is not a SHA-256 module hash`);
  const response = await fetch(new URL(`/modules/${hash}.js`, base));
  if (!response.ok)
    throw new Error(`GET /modules/${hash}.js: ${response.status}`);
  const length = Number(response.headers.get('content-length') ?? 0);
  if (length > MAX_MODULE_BYTES)
    throw new Error(`the module ${hash} is too large (${length} bytes)`);
  const text = await response.text();
  const actual = sha256Hex(text);
  if (actual !== hash)
    throw new ModuleHashMismatch(
      `refused the module ${hash}: its text has SHA-256 ${actual} (tampered with or corrupted on the way)`,
    );
  return text;
}
