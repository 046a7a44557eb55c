// Builds what `npx colony` and the master serve: the Node side with esbuild (dist/*.js)
// and the web pages with vite (dist/web). Runs on `npm install` (prepare) and before tests.
import { build } from 'esbuild';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const started = Date.now();

await build({
  absWorkingDir: root,
  entryPoints: {
    cli: 'server/cli.ts',
    'task-thread': 'server/worker/task-thread.ts',
    client: 'server/client/index.ts',
  },
  outdir: 'dist',
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  packages: 'external',
  sourcemap: true,
  logLevel: 'warning',
});

if (existsSync(path.join(root, 'web/vite.config.ts'))) {
  const { build: viteBuild } = await import('vite');
  await viteBuild({
    configFile: path.join(root, 'web/vite.config.ts'),
    logLevel: 'warn',
  });
}
console.log(`built dist/ in ${Date.now() - started} ms`);
