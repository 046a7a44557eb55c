/** docs/errors.md documents every code and close code, and nothing stale (cf. fastify). */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, test } from 'vitest';
import { CloseCode, ErrorCode } from '../../../shared/errors.js';

const doc = readFileSync(
  path.resolve(import.meta.dirname, '../../../docs/errors.md'),
  'utf8',
);

describe('docs/errors.md', () => {
  test('documents every error code', () => {
    for (const code of Object.values(ErrorCode))
      expect(doc).toContain(`\`${code}\``);
  });
  test('lists no code that does not exist', () => {
    const documented = [...doc.matchAll(/`(E_[A-Z_]+)`/g)].map((m) => m[1]);
    const known = new Set<string>(Object.values(ErrorCode));
    expect(documented.filter((code) => !known.has(code as string))).toEqual([]);
  });
  test('documents every close code', () => {
    for (const code of Object.values(CloseCode))
      expect(doc).toMatch(new RegExp(`^\\| ${code} \\|`, 'm'));
  });
});
