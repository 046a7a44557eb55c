// Makes sure bubblewrap (`bwrap`) is installed, with apt-get when missing (as root):
// `colony worker --sandbox auto` prefers it, and the sandbox tests run task code in it.
import { spawnSync } from 'node:child_process';

const found = () =>
  spawnSync('bwrap', ['--version'], { stdio: 'ignore' }).status === 0;

function run(command, args) {
  console.log(`bubblewrap: $ ${[command, ...args].join(' ')}`);
  const result = spawnSync(command, args, {
    stdio: 'inherit',
    env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
  });
  if (result.error) {
    console.error(
      `bubblewrap: could not run ${command}: ${result.error.message}`,
    );
    return 1;
  }
  return result.status ?? 1;
}

if (!found()) {
  console.log(
    'bubblewrap: bwrap is missing; installing the bubblewrap package.',
  );
  if (typeof process.getuid === 'function' && process.getuid() !== 0) {
    console.error(
      'bubblewrap: not root, so cannot install it. Run `sudo apt-get install -y bubblewrap` and try again.',
    );
    process.exit(1);
  }
  // A fresh image may have no package lists yet: update once, then install.
  if (run('apt-get', ['install', '-y', 'bubblewrap']) !== 0) {
    if (
      run('apt-get', ['update']) !== 0 ||
      run('apt-get', ['install', '-y', 'bubblewrap']) !== 0
    ) {
      console.error('bubblewrap: apt-get could not install bubblewrap.');
      process.exit(1);
    }
  }
  if (!found()) {
    console.error('bubblewrap: installed, but `bwrap --version` still fails.');
    process.exit(1);
  }
}
