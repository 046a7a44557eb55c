/**
 * The error catalogue is honest: every code in shared/errors.ts is produced by the
 * product's own source, and docs/errors.md lists exactly the catalogue (cf. fastify).
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, test } from 'vitest';
import { CloseCode, ErrorCode } from '../../../shared/errors.js';

const root = path.resolve(import.meta.dirname, '../../..');
const doc = readFileSync(path.join(root, 'docs/errors.md'), 'utf8');

/** Close codes that the `ws` library or the network produce, never our code. */
const LIBRARY_CLOSE_CODES: Record<number, string> = {
  1000: 'normal close, sent by a peer that stops',
  1002: 'protocol error, sent by ws',
  1006: 'no close frame: a dropped or terminated socket',
  1007: 'invalid UTF-8, sent by ws',
};
/** Catalogue close codes sent by `ws` itself (asserted in ws-bad-input.test.ts). */
const SENT_BY_WS = new Set<string>(['MessageTooBig']);

function sourceFiles(dir: string): string[] {
  return readdirSync(path.join(root, dir), {
    recursive: true,
    withFileTypes: true,
  })
    .filter((entry) => entry.isFile() && /\.ts$/.test(entry.name))
    .map((entry) => path.join(entry.parentPath, entry.name));
}

/** The product's source, less the catalogue itself. */
const source = ['shared', 'server', 'web/src']
  .flatMap(sourceFiles)
  .filter((file) => file !== path.join(root, 'shared/errors.ts'))
  .map((file) => readFileSync(file, 'utf8'))
  .join('\n');

describe('shared/errors.ts', () => {
  test('every error code is used by the product', () => {
    const unused = Object.keys(ErrorCode).filter(
      (key) => !new RegExp(`\\bErrorCode\\.${key}\\b`).test(source),
    );
    expect(unused).toEqual([]);
  });
  test('every close code is sent by the master or by ws', () => {
    const unused = Object.keys(CloseCode).filter(
      (key) =>
        !SENT_BY_WS.has(key) &&
        !new RegExp(`\\bCloseCode\\.${key}\\b`).test(source),
    );
    expect(unused).toEqual([]);
  });
});

describe('docs/errors.md', () => {
  test('lists exactly the error codes of the catalogue', () => {
    const documented = [...doc.matchAll(/^\| `(E_[A-Z_]+)` \|/gm)].map(
      (m) => m[1],
    );
    expect([...documented].sort()).toEqual(Object.values(ErrorCode).sort());
  });
  test('mentions no error code outside the catalogue', () => {
    const known = new Set<string>(Object.values(ErrorCode));
    const mentioned = [...doc.matchAll(/`(E_[A-Z_]+)`/g)].map((m) => m[1]);
    expect(mentioned.filter((code) => !known.has(code as string))).toEqual([]);
  });
  test('lists exactly the close codes of the catalogue and of ws', () => {
    const documented = [...doc.matchAll(/^\| (\d{4}) \|/gm)].map((m) =>
      Number(m[1]),
    );
    const expected = [
      ...Object.values(CloseCode),
      ...Object.keys(LIBRARY_CLOSE_CODES).map(Number),
    ];
    expect([...documented].sort()).toEqual(expected.sort());
  });
});
