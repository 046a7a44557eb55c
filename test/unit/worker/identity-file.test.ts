/** The Node worker's identity file: made once with mode 0600, reused, a loose mode warned of. */
import { chmodSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, test } from 'vitest';
import {
  defaultIdentityFile,
  loadIdentity,
} from '../../../server/worker/identity-file.js';
import { tempDir } from '../../helpers/master.js';

describe('identity file', () => {
  test('made on first run (0600), the same volunteer on the next', async () => {
    const file = path.join(tempDir(), 'colony', 'identity.json');
    const first = await loadIdentity(file);
    expect(first).toMatchObject({ created: true, warning: null });
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const again = await loadIdentity(file);
    expect(again).toMatchObject({ created: false, warning: null });
    expect(again.volunteer).toBe(first.volunteer);
    expect(again.keys.privateKey.extractable).toBe(false);
  });

  test('a file readable by others gets a warning; a foreign file an error', async () => {
    const file = path.join(tempDir(), 'identity.json');
    await loadIdentity(file);
    chmodSync(file, 0o644);
    expect((await loadIdentity(file)).warning).toMatch(/readable by others/);
    writeFileSync(file, '{"not": "an identity"}');
    await expect(loadIdentity(file)).rejects.toThrow(/not a colony identity/);
  });

  test('defaults under XDG_CONFIG_HOME, else ~/.config', () => {
    expect(defaultIdentityFile({ XDG_CONFIG_HOME: '/x' })).toBe(
      '/x/colony/identity.json',
    );
    expect(defaultIdentityFile({})).toMatch(
      /\.config\/colony\/identity\.json$/,
    );
  });
});
