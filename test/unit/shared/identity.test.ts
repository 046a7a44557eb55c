/** Volunteer identity: WebCrypto signs, WebCrypto and node:crypto verify the same string. */
import { describe, expect, test } from 'vitest';
import {
  fromBase64,
  generateVolunteerKeys,
  proveHello,
  toBase64,
  verifyHello,
  volunteerIdOf,
} from '../../../shared/identity.js';
import {
  checkVolunteer,
  volunteerIdOfDer,
} from '../../../server/master/volunteer-auth.js';

describe('volunteer identity', () => {
  test('a proof verifies with WebCrypto and node:crypto, for its host and nonce only', async () => {
    const keys = await generateVolunteerKeys(false);
    const proof = await proveHello(keys, '127.0.0.1:8080', 'n1');
    expect(await verifyHello(proof, '127.0.0.1:8080', 'n1')).toBe(true);
    expect(checkVolunteer(proof, '127.0.0.1:8080', 'n1')).toEqual({
      ok: true,
      volunteer: await volunteerIdOf(keys.publicKey),
    });
    expect(await verifyHello(proof, '127.0.0.1:8080', 'n2')).toBe(false);
    expect(checkVolunteer(proof, 'evil.example:8080', 'n1').ok).toBe(false);
    // Default ports and case do not matter: Host headers differ in them.
    const web = await proveHello(keys, 'Colony.Example:443', 'n3');
    expect(checkVolunteer(web, 'colony.example', 'n3').ok).toBe(true);
  });

  test('garbage keys and signatures are refused, never thrown', async () => {
    const keys = await generateVolunteerKeys(false);
    const proof = await proveHello(keys, 'h', 'n');
    expect(checkVolunteer({ ...proof, publicKey: 'AAAA' }, 'h', 'n').ok).toBe(
      false,
    );
    expect(checkVolunteer({ ...proof, signature: '!!' }, 'h', 'n').ok).toBe(
      false,
    );
    expect(await verifyHello({ ...proof, publicKey: '%%' }, 'h', 'n')).toBe(
      false,
    );
  });

  test('the volunteer id is the same in shared and server code', async () => {
    const keys = await generateVolunteerKeys(false);
    expect(await volunteerIdOf(keys.publicKey)).toBe(
      volunteerIdOfDer(Buffer.from(keys.publicKey, 'base64')),
    );
  });

  test('base64 round-trips and matches Node', () => {
    for (const n of [0, 1, 2, 3, 64, 91]) {
      const bytes = Uint8Array.from({ length: n }, (_, i) => (i * 37) & 255);
      const text = toBase64(bytes);
      expect(text).toBe(Buffer.from(bytes).toString('base64'));
      expect([...fromBase64(text)]).toEqual([...bytes]);
    }
    expect(() => fromBase64('a$b=')).toThrow();
  });
});
