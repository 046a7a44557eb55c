#!/usr/bin/env node
// `npm run example -- <name> [flags]`: bundles examples/<name>/main.ts (and the repo's
// TypeScript it imports) with esbuild into dist/examples/<name>.mjs, then runs its
// `main(argv)`. The bundle sits in dist/ so that the local master and workers it starts
// find dist/task-thread.js and dist/web, as the built CLI does.
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build } from 'esbuild';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.dirname(here);
const names = readdirSync(here, { withFileTypes: true })
  .filter(
    (entry) =>
      entry.isDirectory() && existsSync(path.join(here, entry.name, 'main.ts')),
  )
  .map((entry) => entry.name)
  .sort();

const [name, ...argv] = process.argv.slice(2);
if (!name || name === '--help' || name === '-h') {
  console.log(
    `usage: npm run example -- <name> [--url URL --token T] [--small] [flags]\nexamples: ${names.join(', ')}\n<name> --help lists its flags`,
  );
  process.exit(name ? 0 : 2);
}
if (!names.includes(name)) {
  console.error(
    `error: no example ${JSON.stringify(name)}; the examples are: ${names.join(', ')}`,
  );
  process.exit(2);
}

const outfile = path.join(root, 'dist', 'examples', `${name}.mjs`);
try {
  await build({
    absWorkingDir: root,
    entryPoints: [path.join(here, name, 'main.ts')],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    packages: 'external',
    sourcemap: 'inline',
    logLevel: 'silent',
  });
} catch (error) {
  const first = error.errors?.[0];
  const where = first?.location
    ? ` (${first.location.file}:${first.location.line})`
    : '';
  console.error(
    `error: cannot build example ${name}: ${first?.text ?? error.message}${where}`,
  );
  process.exit(2);
}

const { main } = await import(pathToFileURL(outfile).href);
const code = await main(argv);
process.exitCode = code;
// Everything was closed; if a stray handle lingers, do not hang the shell.
setTimeout(() => process.exit(code), 3_000).unref();
