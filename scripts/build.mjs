// Builds what `npx colony` and the master serve: the Node side with esbuild (dist/*.js)
// and the web pages with vite (dist/web). Runs on `npm install` (prepare) and before tests.
import { build } from 'esbuild';
import {
  existsSync,
  mkdirSync,
  readFileSync,
  readdirSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const started = Date.now();
const pkg = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8'));

// Chunk names carry a content hash: drop the previous build's so that none pile up.
const dist = path.join(root, 'dist');
const previous = existsSync(dist) ? readdirSync(dist) : [];
for (const name of previous.filter((n) => /\.js(\.map)?$/.test(n)))
  rmSync(path.join(dist, name));

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
  // Each CLI command is a dynamic import(): with splitting it becomes its own chunk, so
  // `colony status` does not load the master, the store or pino.
  splitting: true,
  chunkNames: '[name]-[hash]',
  // Every dependency stays in node_modules except zod: bundled, its many small modules
  // load in one file, which is most of what a short command's start costs.
  external: Object.keys(pkg.dependencies).filter((name) => name !== 'zod'),
  sourcemap: true,
  logLevel: 'warning',
});

// The sandboxed child of `colony worker`: self-contained (no node_modules inside the
// sandbox), with its own thread entry and a package.json that marks the files as ESM,
// since only this directory is visible to it.
await build({
  absWorkingDir: root,
  entryPoints: {
    child: 'server/worker/sandbox/child.ts',
    thread: 'server/worker/sandbox/thread-entry.ts',
  },
  outdir: 'dist/sandbox',
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  logLevel: 'warning',
});
mkdirSync(path.join(root, 'dist/sandbox'), { recursive: true });
writeFileSync(
  path.join(root, 'dist/sandbox/package.json'),
  '{ "type": "module" }\n',
);

if (existsSync(path.join(root, 'web/vite.config.ts'))) {
  const { build: viteBuild } = await import('vite');
  await viteBuild({
    configFile: path.join(root, 'web/vite.config.ts'),
    logLevel: 'warn',
  });
}
console.log(`built dist/ in ${Date.now() - started} ms`);
