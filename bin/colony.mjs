#!/usr/bin/env node
// The `colony` command: runs the built CLI (dist/ is built on `npm install`).
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const cli = fileURLToPath(new URL('../dist/cli.js', import.meta.url));
if (!existsSync(cli)) {
  console.error('colony: dist/cli.js is missing; run `npm run build` first.');
  process.exit(1);
}
await import(cli);
