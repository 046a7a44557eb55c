/**
 * Volunteer identity (SPEC §14): an ECDSA P-256 key pair per volunteer, proved at
 * `hello` by signing the master's challenge. WebCrypto (`globalThis.crypto.subtle`)
 * exists in browsers, Web Workers and Node 20 alike, so this one module makes keys,
 * signs and verifies everywhere. The wire form: the public key as base64 SPKI (DER),
 * the signature as base64 of the 64-byte IEEE P1363 form (r || s) WebCrypto produces.
 * The volunteer id is the first 16 hex digits of the SHA-256 of the SPKI bytes.
 */

/** The part of WebCrypto used here (shared/ compiles without the DOM library). */
export interface KeyHandle {
  readonly type: string;
  readonly extractable: boolean;
}
interface Subtle {
  generateKey(
    algorithm: object,
    extractable: boolean,
    usages: string[],
  ): Promise<{ publicKey: KeyHandle; privateKey: KeyHandle }>;
  importKey(
    format: string,
    data: object,
    algorithm: object,
    extractable: boolean,
    usages: string[],
  ): Promise<KeyHandle>;
  exportKey(format: string, key: KeyHandle): Promise<ArrayBuffer | object>;
  sign(
    algorithm: object,
    key: KeyHandle,
    data: Uint8Array,
  ): Promise<ArrayBuffer>;
  verify(
    algorithm: object,
    key: KeyHandle,
    signature: Uint8Array,
    data: Uint8Array,
  ): Promise<boolean>;
  digest(algorithm: string, data: Uint8Array): Promise<ArrayBuffer>;
}

function subtle(): Subtle {
  const c = (globalThis as unknown as { crypto?: { subtle?: Subtle } }).crypto;
  if (!c?.subtle)
    throw new Error('WebCrypto is not available (a secure context is needed)');
  return c.subtle;
}

const KEY_ALGORITHM = { name: 'ECDSA', namedCurve: 'P-256' } as const;
const SIGN_ALGORITHM = { name: 'ECDSA', hash: 'SHA-256' } as const;

/** Longest base64 SPKI accepted (a P-256 SPKI is 91 bytes: 124 characters). */
export const MAX_PUBLIC_KEY_LENGTH = 256;
/** Longest base64 signature accepted (a P-256 P1363 signature is 64 bytes: 88). */
export const MAX_SIGNATURE_LENGTH = 128;
/** Length of a challenge nonce, base64 of 32 random bytes. */
export const NONCE_BYTES = 32;

/** A volunteer's keys: the private key may be non-extractable (browsers). */
export interface VolunteerKeys {
  privateKey: KeyHandle;
  /** base64 SPKI of the public key. */
  publicKey: string;
}

/** What `hello.volunteer` carries. */
export interface VolunteerProof {
  publicKey: string;
  signature: string;
}

/**
 * The exact text a volunteer signs: the protocol, the host it dialled (as in the
 * `Host` header: a signature made for one master is no use at another) and the nonce
 * (a signature is no use on another connection).
 */
export function helloString(host: string, nonce: string): string {
  return `colony-hello\nprotocol=3\nhost=${normalizeHost(host)}\nnonce=${nonce}`;
}

/** Lower case, without a default port (80, 443): `Host` headers differ in these. */
export function normalizeHost(host: string): string {
  return host.toLowerCase().replace(/:(80|443)$/, '');
}

/** Makes a new key pair. Browsers keep a non-extractable private key. */
export async function generateVolunteerKeys(
  extractable: boolean,
): Promise<VolunteerKeys> {
  const pair = await subtle().generateKey(KEY_ALGORITHM, extractable, [
    'sign',
    'verify',
  ]);
  const spki = (await subtle().exportKey(
    'spki',
    pair.publicKey,
  )) as ArrayBuffer;
  return {
    privateKey: pair.privateKey,
    publicKey: toBase64(new Uint8Array(spki)),
  };
}

/** The private key as a JWK, to keep in a file (only for an extractable key). */
export async function exportPrivateKey(keys: VolunteerKeys): Promise<object> {
  return (await subtle().exportKey('jwk', keys.privateKey)) as object;
}

/** Keys from a kept JWK and SPKI; the private key comes back non-extractable. */
export async function importVolunteerKeys(
  jwk: object,
  publicKey: string,
): Promise<VolunteerKeys> {
  const privateKey = await subtle().importKey(
    'jwk',
    jwk,
    KEY_ALGORITHM,
    false,
    ['sign'],
  );
  return { privateKey, publicKey };
}

/** Signs the master's challenge for `hello.volunteer`. */
export async function proveHello(
  keys: VolunteerKeys,
  host: string,
  nonce: string,
): Promise<VolunteerProof> {
  const data = new TextEncoder().encode(helloString(host, nonce));
  const signature = await subtle().sign(SIGN_ALGORITHM, keys.privateKey, data);
  return {
    publicKey: keys.publicKey,
    signature: toBase64(new Uint8Array(signature)),
  };
}

/** Checks a proof with WebCrypto; false for any malformed key or signature. */
export async function verifyHello(
  proof: VolunteerProof,
  host: string,
  nonce: string,
): Promise<boolean> {
  try {
    const key = await subtle().importKey(
      'spki',
      fromBase64(proof.publicKey),
      KEY_ALGORITHM,
      false,
      ['verify'],
    );
    const data = new TextEncoder().encode(helloString(host, nonce));
    return await subtle().verify(
      SIGN_ALGORITHM,
      key,
      fromBase64(proof.signature),
      data,
    );
  } catch {
    return false;
  }
}

/** The volunteer id of a public key: 16 hex digits of the SHA-256 of its SPKI. */
export async function volunteerIdOf(publicKey: string): Promise<string> {
  const digest = await subtle().digest('SHA-256', fromBase64(publicKey));
  return toHex(new Uint8Array(digest).subarray(0, 8));
}

function toHex(bytes: Uint8Array): string {
  let out = '';
  for (const b of bytes) out += b.toString(16).padStart(2, '0');
  return out;
}

const ALPHABET =
  'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';

/** Standard base64 with padding (no btoa: shared/ runs where it may be missing). */
export function toBase64(bytes: Uint8Array): string {
  let out = '';
  for (let i = 0; i < bytes.length; i += 3) {
    const a = bytes[i] as number;
    const b = bytes[i + 1];
    const c = bytes[i + 2];
    const n = (a << 16) | ((b ?? 0) << 8) | (c ?? 0);
    out += ALPHABET[(n >> 18) & 63];
    out += ALPHABET[(n >> 12) & 63];
    out += b === undefined ? '=' : ALPHABET[(n >> 6) & 63];
    out += c === undefined ? '=' : ALPHABET[n & 63];
  }
  return out;
}

/** Decodes standard base64; throws on anything else. */
export function fromBase64(text: string): Uint8Array {
  if (
    !/^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/.test(
      text,
    )
  )
    throw new Error('not base64');
  const clean = text.replace(/=+$/, '');
  const out = new Uint8Array(Math.floor((clean.length * 3) / 4));
  let bits = 0;
  let value = 0;
  let k = 0;
  for (const ch of clean) {
    value = (value << 6) | ALPHABET.indexOf(ch);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[k++] = (value >> bits) & 0xff;
    }
  }
  return out;
}
