/**
 * The bwrap sandbox's /dev holds no terminal: the child shares the worker's session
 * (no `--new-session`, which made it a scheduler autogroup of its own), so it must not
 * be able to open the controlling terminal and push keystrokes into the user's shell
 * (`TIOCSTI`). Runs node inside the very bubblewrap command line the worker uses,
 * without Node's permission model, so that only bubblewrap's walls are tested.
 */
import { spawnSync } from 'node:child_process';
import { describe, expect, test } from 'vitest';
import { bwrapArgs, childDir } from '../../server/worker/sandbox/modes.js';

const PROBE = `
const fs = require('node:fs');
const tryIt = (fn) => { try { fn(); return 'ok'; } catch (e) { return e.code; } };
console.log(JSON.stringify({
  dev: fs.readdirSync('/dev').sort(),
  tty: tryIt(() => fs.openSync('/dev/tty', 'r+')),
  pts: tryIt(() => fs.readdirSync('/dev/pts')),
  ptmx: tryIt(() => fs.openSync('/dev/ptmx', 'r+')),
  write: tryIt(() => fs.writeFileSync('/dev/planted', 'x')),
  nullWrite: tryIt(() => fs.writeFileSync('/dev/null', 'x')),
}));
`;

describe('the bwrap sandbox and terminals', () => {
  test('its /dev is null, zero, random and urandom, read-only: no tty, pts or ptmx to open', () => {
    const run = spawnSync('bwrap', bwrapArgs(childDir(), ['-e', PROBE]), {
      env: {},
      encoding: 'utf8',
      timeout: 30_000,
    });
    expect(run.stderr).toBe('');
    expect(JSON.parse(run.stdout)).toEqual({
      dev: ['null', 'random', 'urandom', 'zero'],
      tty: 'ENOENT',
      pts: 'ENOENT',
      ptmx: 'ENOENT',
      write: 'EROFS',
      nullWrite: 'ok',
    });
  });
});
