/**
 * This browser's volunteer identity (SPEC §14): an ECDSA P-256 key pair made on the
 * first visit and kept in IndexedDB. The private key is a non-extractable CryptoKey:
 * the page can sign with it but no script can read it out. Clearing the site's data
 * makes a new volunteer.
 */
import {
  generateVolunteerKeys,
  volunteerIdOf,
  type VolunteerKeys,
} from '../../../shared/identity.js';

const DB_NAME = 'colony';
const STORE = 'identity';
const KEY = 'volunteer';

interface Kept {
  privateKey: CryptoKey;
  publicKey: string;
}

function openDb(): Promise<IDBDatabase> {
  return new Promise((resolve, reject) => {
    const request = indexedDB.open(DB_NAME, 1);
    request.onupgradeneeded = () => request.result.createObjectStore(STORE);
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error ?? new Error('IndexedDB'));
  });
}

function run<T>(
  db: IDBDatabase,
  mode: IDBTransactionMode,
  op: (store: IDBObjectStore) => IDBRequest,
): Promise<T> {
  return new Promise((resolve, reject) => {
    const request = op(db.transaction(STORE, mode).objectStore(STORE));
    request.onsuccess = () => resolve(request.result as T);
    request.onerror = () => reject(request.error ?? new Error('IndexedDB'));
  });
}

let loading: Promise<VolunteerKeys & { volunteer: string }> | null = null;

/** This browser's keys and volunteer id, made and kept on first use. */
export function loadBrowserIdentity(): Promise<
  VolunteerKeys & { volunteer: string }
> {
  loading ??= load();
  return loading;
}

async function load(): Promise<VolunteerKeys & { volunteer: string }> {
  const db = await openDb();
  try {
    let kept = await run<Kept | undefined>(db, 'readonly', (s) => s.get(KEY));
    if (kept === undefined) {
      const keys = await generateVolunteerKeys(false);
      kept = {
        privateKey: keys.privateKey as unknown as CryptoKey,
        publicKey: keys.publicKey,
      };
      // `add`, not `put`: a second tab racing this one keeps the first key made.
      await run(db, 'readwrite', (s) => s.add(kept, KEY)).catch(
        () => undefined,
      );
      kept =
        (await run<Kept | undefined>(db, 'readonly', (s) => s.get(KEY))) ??
        kept;
    }
    return {
      privateKey: kept.privateKey,
      publicKey: kept.publicKey,
      volunteer: await volunteerIdOf(kept.publicKey),
    };
  } finally {
    db.close();
  }
}
