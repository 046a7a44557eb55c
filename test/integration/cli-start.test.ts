/**
 * The client commands start fast because each loads only what it needs: `--help`,
 * `status`, `results` and `cancel` (against a live master) load none of the master's
 * heavy dependencies (esbuild, better-sqlite3, pg, pino). The modules a process loads
 * are logged by a loader hook; `colony master` under the same hook is the control that
 * the hook does see those dependencies when they are loaded.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, test } from 'vitest';
import {
  FIXTURES,
  spawnColony,
  startTestMaster,
  tempDir,
  waitForOutput,
} from '../helpers/master.js';

const HEAVY = ['esbuild', 'better-sqlite3', 'pg', 'pino'];

/** The packages of node_modules among the loaded URLs. */
function packagesIn(log: string): Set<string> {
  const loaded = existsSync(log) ? readFileSync(log, 'utf8') : '';
  const names = [...loaded.matchAll(/node_modules\/((?:@[^/]+\/)?[^/]+)\//g)];
  return new Set(names.map((match) => match[1] as string));
}

function logged(): { log: string; env: NodeJS.ProcessEnv } {
  const log = path.join(tempDir(), 'modules.log');
  const hook = path.join(FIXTURES, 'module-log.mjs');
  return {
    log,
    env: { NODE_OPTIONS: `--import=${hook}`, COLONY_TEST_MODULE_LOG: log },
  };
}

describe('client commands load only what they need', () => {
  test('the control: `colony master` is seen loading better-sqlite3 and pino', async () => {
    const { log, env } = logged();
    const master = spawnColony(
      [
        'master',
        '--port',
        '0',
        '--data',
        tempDir(),
        '--token',
        'test-token-0123456789',
      ],
      env,
    );
    await waitForOutput(master, (out) => out.includes('dashboard:'));
    const packages = packagesIn(log);
    expect(packages).toContain('better-sqlite3');
    expect(packages).toContain('pino');
  });

  test('--help, status, results and cancel load none of esbuild, better-sqlite3, pg, pino', async () => {
    const master = await startTestMaster();
    const { id } = await master.client.submit({
      name: 'three',
      module: 'export default (x) => x + 1;',
      inputs: [1, 2, 3],
    });
    const url = ['--url', master.url, '--token', master.token];
    const commands = [
      ['--help'],
      ['status', ...url],
      ['results', id, ...url],
      ['cancel', id, ...url],
    ];
    for (const args of commands) {
      const { log, env } = logged();
      const run = spawnColony(args, env);
      expect(await run.exited, `colony ${args[0]}: ${run.stderr()}`).toBe(0);
      const packages = packagesIn(log);
      // The log is not empty: the command's own modules are in it.
      expect(readFileSync(log, 'utf8')).toContain('/dist/cli.js');
      for (const heavy of HEAVY)
        expect(packages, `colony ${args[0]} loaded ${heavy}`).not.toContain(
          heavy,
        );
    }
    expect(await master.client.job(id)).toMatchObject({ state: 'cancelled' });
  });
});
