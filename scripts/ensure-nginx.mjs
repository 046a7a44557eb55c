// Makes sure Debian's nginx is at /usr/sbin/nginx, installing it with apt-get when
// missing (as root). `npm test` runs this before vitest: the reverse-proxy test puts the
// nginx configuration of docs/deploy.md in front of a master. Only the binary is used:
// the test runs it in the foreground with its own configuration in a temp dir.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

const NGINX = '/usr/sbin/nginx';

function run(command, args) {
  console.log(`nginx: $ ${[command, ...args].join(' ')}`);
  const result = spawnSync(command, args, {
    stdio: 'inherit',
    env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
  });
  if (result.error) {
    console.error(`nginx: could not run ${command}: ${result.error.message}`);
    return 1;
  }
  return result.status ?? 1;
}

if (!existsSync(NGINX)) {
  console.log(`nginx: ${NGINX} is missing; installing Debian's nginx package.`);
  if (typeof process.getuid === 'function' && process.getuid() !== 0) {
    console.error(
      'nginx: not root, so cannot install it. Run `sudo apt-get install -y nginx` and try again.',
    );
    process.exit(1);
  }
  // --no-install-recommends: the binary is all the test needs. A fresh image may have
  // no package lists yet: update once, then install.
  const install = ['install', '-y', '--no-install-recommends', 'nginx'];
  if (run('apt-get', install) !== 0) {
    if (run('apt-get', ['update']) !== 0 || run('apt-get', install) !== 0) {
      console.error('nginx: apt-get could not install nginx.');
      process.exit(1);
    }
  }
  if (!existsSync(NGINX)) {
    console.error(`nginx: nginx was installed but ${NGINX} is still missing.`);
    process.exit(1);
  }
}
