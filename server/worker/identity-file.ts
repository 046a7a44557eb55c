/**
 * The Node worker's volunteer identity (SPEC §14), kept in a file: by default
 * `$XDG_CONFIG_HOME/colony/identity.json` (else `~/.config/colony/identity.json`),
 * made on first run with mode 0600 in a 0700 directory. The file holds the private key
 * as a JWK and the public key as base64 SPKI; whoever reads it can act as this
 * volunteer, so a file readable by others gets a warning.
 */
import {
  chmodSync,
  mkdirSync,
  readFileSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as z from 'zod';
import {
  exportPrivateKey,
  generateVolunteerKeys,
  importVolunteerKeys,
  MAX_PUBLIC_KEY_LENGTH,
  volunteerIdOf,
  type VolunteerKeys,
} from '../../shared/identity.js';

/** The default identity file of this user. */
export function defaultIdentityFile(env = process.env): string {
  const base = env.XDG_CONFIG_HOME || path.join(os.homedir(), '.config');
  return path.join(base, 'colony', 'identity.json');
}

const IdentityFile = z.strictObject({
  version: z.literal(1),
  publicKey: z.string().min(1).max(MAX_PUBLIC_KEY_LENGTH),
  privateKey: z.record(z.string(), z.unknown()),
});

export interface LoadedIdentity {
  keys: VolunteerKeys;
  volunteer: string;
  /** True if the file was made just now. */
  created: boolean;
  /** A warning to show (the file is readable by others), or null. */
  warning: string | null;
}

/** Reads the identity in `file`, or makes one there if there is none. */
export async function loadIdentity(file: string): Promise<LoadedIdentity> {
  let text: string | null = null;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  if (text === null) {
    mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
    const keys = await generateVolunteerKeys(true);
    const body = {
      version: 1,
      publicKey: keys.publicKey,
      privateKey: await exportPrivateKey(keys),
    };
    // `wx`: never overwrite a file another process made in the meantime.
    writeFileSync(file, `${JSON.stringify(body, null, 2)}\n`, {
      mode: 0o600,
      flag: 'wx',
    });
    chmodSync(file, 0o600); // the umask may have narrowed it further, never widened
    const kept = await importVolunteerKeys(body.privateKey, keys.publicKey);
    return {
      keys: kept,
      volunteer: await volunteerIdOf(keys.publicKey),
      created: true,
      warning: null,
    };
  }
  let parsed;
  try {
    parsed = IdentityFile.parse(JSON.parse(text));
  } catch {
    throw new Error(
      `${file} is not a colony identity file; move it away to make a new identity`,
    );
  }
  const keys = await importVolunteerKeys(parsed.privateKey, parsed.publicKey);
  const mode = statSync(file).mode & 0o777;
  const warning =
    (mode & 0o077) !== 0
      ? `${file} is readable by others (mode ${mode.toString(8)}): anyone who reads it can act as this volunteer; run chmod 600 ${JSON.stringify(file)}`
      : null;
  return {
    keys,
    volunteer: await volunteerIdOf(parsed.publicKey),
    created: false,
    warning,
  };
}
