// Makes sure Debian's Chromium is at /usr/bin/chromium, installing it with apt-get when
// missing (as root). `npm test` runs this before any test that drives a browser;
// `npx playwright install` cannot work here, so Playwright drives /usr/bin/chromium.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const CHROMIUM = '/usr/bin/chromium';

function run(command, args) {
  console.log(`chromium: $ ${[command, ...args].join(' ')}`);
  const result = spawnSync(command, args, {
    cwd: root,
    stdio: 'inherit',
    env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
  });
  if (result.error) {
    console.error(
      `chromium: could not run ${command}: ${result.error.message}`,
    );
    return 1;
  }
  return result.status ?? 1;
}

if (!existsSync(CHROMIUM)) {
  console.log(
    `chromium: ${CHROMIUM} is missing; installing Debian's chromium package.`,
  );
  if (typeof process.getuid === 'function' && process.getuid() !== 0) {
    console.error(
      `chromium: not root, so cannot install it. Run \`sudo apt-get install -y chromium\` and try again.`,
    );
    process.exit(1);
  }
  // A fresh image may have no package lists yet: update once, then install.
  if (run('apt-get', ['install', '-y', 'chromium']) !== 0) {
    if (
      run('apt-get', ['update']) !== 0 ||
      run('apt-get', ['install', '-y', 'chromium']) !== 0
    ) {
      console.error('chromium: apt-get could not install chromium.');
      process.exit(1);
    }
  }
  if (!existsSync(CHROMIUM)) {
    console.error(
      `chromium: chromium was installed but ${CHROMIUM} is still missing.`,
    );
    process.exit(1);
  }
}
