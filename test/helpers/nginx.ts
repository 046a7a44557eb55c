/**
 * Debian's nginx for the reverse-proxy tests: the site configuration of docs/deploy.md,
 * wrapped in a main configuration that keeps everything (pid, logs, temp files) in a
 * temp dir, `daemon off;`, on a free port. Installed by scripts/ensure-nginx.mjs.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { onTestFinished } from 'vitest';
import { ROOT } from './master.js';
import { assertTestRunning } from './test-running.js';

export const NGINX = '/usr/sbin/nginx';

/** The ```nginx block that follows the "tested" marker in docs/deploy.md. */
export function siteFromDeployGuide(): string {
  const guide = readFileSync(path.join(ROOT, 'docs/deploy.md'), 'utf8');
  const marker = guide.indexOf(
    '<!-- tested by test/integration/proxy.test.ts -->',
  );
  const match = /```nginx\n([\s\S]*?)```/.exec(guide.slice(marker));
  if (marker < 0 || !match?.[1])
    throw new Error('docs/deploy.md has no tested ```nginx block');
  return match[1];
}

/** Replaces `from` (which must occur) with `to` everywhere. */
export function substitute(text: string, from: string, to: string): string {
  if (!text.includes(from))
    throw new Error(`the site has no ${JSON.stringify(from)}`);
  return text.split(from).join(to);
}

/** Starts nginx with `site` inside `http {}`; resolves once it has bound its ports. */
export async function startNginx(dir: string, site: string): Promise<void> {
  const prefix = path.join(dir, 'nginx');
  mkdirSync(path.join(prefix, 'temp'), { recursive: true });
  const temp = (name: string) => path.join(prefix, 'temp', name);
  const asRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  const conf = path.join(prefix, 'nginx.conf');
  writeFileSync(
    conf,
    [
      'daemon off;',
      'master_process on;',
      'worker_processes 1;',
      // As root the workers would switch to `nobody`, who cannot enter the temp dir.
      asRoot ? 'user root;' : '',
      `pid ${path.join(prefix, 'nginx.pid')};`,
      'error_log stderr notice;',
      'events { worker_connections 256; }',
      'http {',
      `  access_log ${path.join(prefix, 'access.log')};`,
      `  client_body_temp_path ${temp('body')};`,
      `  proxy_temp_path ${temp('proxy')};`,
      `  fastcgi_temp_path ${temp('fastcgi')};`,
      `  uwsgi_temp_path ${temp('uwsgi')};`,
      `  scgi_temp_path ${temp('scgi')};`,
      site,
      '}',
      '',
    ].join('\n'),
  );
  assertTestRunning('nginx');
  const child = spawn(NGINX, ['-p', prefix, '-c', conf, '-e', 'stderr'], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  onTestFinished(async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGQUIT');
    await exited;
  });
  await new Promise<void>((resolve, reject) => {
    child.on('error', reject);
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
      // Logged once the listening sockets are bound.
      if (stderr.includes('start worker processes')) resolve();
    });
    child.once('exit', (code) =>
      reject(
        new Error(`nginx exited (${code}) before it was ready:\n${stderr}`),
      ),
    );
  });
}
