// The browser end of `npm test`: makes sure Debian's Chromium is there (installing it
// with apt-get when missing and running as root), then runs the Playwright tests.
// `npx playwright install` cannot work here, so Playwright drives /usr/bin/chromium.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const CHROMIUM = '/usr/bin/chromium';

function run(command, args) {
  console.log(`e2e: $ ${[command, ...args].join(' ')}`);
  const result = spawnSync(command, args, {
    cwd: root,
    stdio: 'inherit',
    env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
  });
  if (result.error) {
    console.error(`e2e: could not run ${command}: ${result.error.message}`);
    return 1;
  }
  return result.status ?? 1;
}

// Chromium itself is ensured by scripts/ensure-chromium.mjs, run first.
spawnSync(process.execPath, [path.join(root, 'scripts/ensure-chromium.mjs')], {
  stdio: 'inherit',
});
if (!existsSync(CHROMIUM)) process.exit(1);

for (const built of [
  'dist/cli.js',
  'dist/web/index.html',
  'dist/web/volunteer.html',
]) {
  if (!existsSync(path.join(root, built))) {
    console.error(`e2e: ${built} is missing; run \`npm run build\` first.`);
    process.exit(1);
  }
}

const npx = process.platform === 'win32' ? 'npx.cmd' : 'npx';
process.exit(
  run(npx, [
    'playwright',
    'test',
    '--config',
    'playwright.config.ts',
    ...process.argv.slice(2),
  ]),
);
