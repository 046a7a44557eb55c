/**
 * The master's side of volunteer identity (shared/identity.ts): a nonce per socket, and
 * the check of `hello.volunteer` with node:crypto, synchronously, so that no frame of
 * the socket can slip in between `hello` and its admission.
 */
import { createHash, createPublicKey, randomBytes, verify } from 'node:crypto';
import { helloString, NONCE_BYTES } from '../../shared/identity.js';
import type { VolunteerId, VolunteerProof } from '../../shared/protocol.js';

export function newNonce(): string {
  return randomBytes(NONCE_BYTES).toString('base64');
}

/**
 * The volunteer id if `proof` is a P-256 key's valid signature of the hello string for
 * `host` and `nonce`; else a reason. Never throws.
 */
export function checkVolunteer(
  proof: VolunteerProof,
  host: string,
  nonce: string,
): { ok: true; volunteer: VolunteerId } | { ok: false; reason: string } {
  try {
    const der = Buffer.from(proof.publicKey, 'base64');
    const key = createPublicKey({ key: der, format: 'der', type: 'spki' });
    if (
      key.asymmetricKeyType !== 'ec' ||
      key.asymmetricKeyDetails?.namedCurve !== 'prime256v1'
    )
      return { ok: false, reason: 'the public key is not ECDSA P-256' };
    const signature = Buffer.from(proof.signature, 'base64');
    const data = Buffer.from(helloString(host, nonce), 'utf8');
    const good = verify(
      'sha256',
      data,
      { key, dsaEncoding: 'ieee-p1363' },
      signature,
    );
    if (!good)
      return {
        ok: false,
        reason:
          'the signature does not verify (sign the challenge for this host)',
      };
    return { ok: true, volunteer: volunteerIdOfDer(der) };
  } catch {
    return { ok: false, reason: 'the public key is not a valid SPKI' };
  }
}

/** 16 hex digits of the SHA-256 of the SPKI bytes (as volunteerIdOf in shared/identity.ts). */
export function volunteerIdOfDer(der: Buffer): VolunteerId {
  return createHash('sha256')
    .update(der)
    .digest('hex')
    .slice(0, 16) as VolunteerId;
}
