// A private PostgreSQL for tests, CI and benchmarks: installs Debian's `postgresql` when
// missing, then runs a throwaway cluster (initdb in a temp dir, a free port on 127.0.0.1,
// its socket in that dir) and removes it at the end.
//
//   node scripts/ensure-postgres.mjs                 installs only
//   node scripts/ensure-postgres.mjs -- CMD ARGS...  runs CMD with COLONY_TEST_PG_URL set,
//                                                    then stops the cluster; exits as CMD
//
// As a module: `startPostgres()` resolves to `{ url, stop }`.
// initdb refuses to run as root, so as root the cluster's files belong to the `postgres`
// user and every server binary runs as that user.
import { spawn, spawnSync } from 'node:child_process';
import {
  chownSync,
  existsSync,
  mkdtempSync,
  renameSync,
  rmSync,
} from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const PG_BIN = '/usr/lib/postgresql/15/bin';
const USER = 'colony';
const DATABASE = 'colony';

function isRoot() {
  return typeof process.getuid === 'function' && process.getuid() === 0;
}

function log(message) {
  process.stderr.write(`postgres: ${message}\n`);
}

/** Installs Debian's postgresql (15 on bookworm) when its binaries are missing. */
export function ensurePostgresInstalled() {
  if (existsSync(path.join(PG_BIN, 'pg_ctl'))) return;
  log(`${PG_BIN} is missing; installing Debian's postgresql package.`);
  if (!isRoot()) {
    throw new Error(
      'PostgreSQL 15 is missing and this is not root: run `sudo apt-get install -y postgresql` and try again.',
    );
  }
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const install = () =>
    spawnSync('apt-get', ['install', '-y', 'postgresql'], {
      stdio: 'inherit',
      env,
    }).status;
  // A fresh image may have no package lists yet: update once, then install again.
  if (install() !== 0) {
    spawnSync('apt-get', ['update'], { stdio: 'inherit', env });
    if (install() !== 0) throw new Error('apt-get install postgresql failed');
  }
  if (!existsSync(path.join(PG_BIN, 'pg_ctl'))) {
    throw new Error(`postgresql installed, but ${PG_BIN}/pg_ctl is not there`);
  }
}

/** Runs a PostgreSQL binary, as the `postgres` user when we are root. */
function runBin(name, args) {
  const bin = path.join(PG_BIN, name);
  const [command, argv] = isRoot()
    ? ['runuser', ['-u', 'postgres', '--', bin, ...args]]
    : [bin, args];
  const result = spawnSync(command, argv, { encoding: 'utf8' });
  if (result.error) throw new Error(`${name}: ${result.error.message}`);
  if (result.status !== 0) {
    throw new Error(
      `${name} exited ${result.status}: ${(result.stderr || result.stdout).trim()}`,
    );
  }
  return result.stdout;
}

/** A port free right now on 127.0.0.1 (a race with other processes is retried). */
function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/**
 * Starts a private cluster with database `colony` owned by user `colony` (trust auth,
 * only 127.0.0.1 and a socket in its own dir). `durable: false` (the default, for tests)
 * turns fsync off: a crash of the machine may lose the cluster, which is thrown away anyway.
 */
export async function startPostgres({ durable = false } = {}) {
  ensurePostgresInstalled();
  const dir = mkdtempSync(path.join(os.tmpdir(), 'colony-pg-'));
  const data = path.join(dir, 'data');
  let started = false;
  const stop = () => {
    if (started) {
      try {
        runBin('pg_ctl', ['stop', '-D', data, '-m', 'immediate', '-w']);
      } catch (error) {
        log(`stop: ${error.message}`);
      }
      started = false;
    }
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    if (isRoot()) fixOwner(dir);
    copyTemplate(data);
    const settings = [
      `-c listen_addresses=127.0.0.1`,
      `-k ${dir}`,
      `-c max_connections=200`,
      ...(durable ? [] : ['-c fsync=off', '-c full_page_writes=off']),
    ];
    let port = 0;
    for (let attempt = 0; ; attempt++) {
      port = await freePort();
      try {
        runBin('pg_ctl', [
          'start',
          '-D',
          data,
          '-w',
          '-t',
          '30',
          '-l',
          path.join(dir, 'log'),
          '-o',
          `-p ${port} ${settings.join(' ')}`,
        ]);
        started = true;
        break;
      } catch (error) {
        if (attempt >= 2) throw error;
      }
    }
    runBin('createdb', [
      '-h',
      '127.0.0.1',
      '-p',
      String(port),
      '-U',
      USER,
      DATABASE,
    ]);
    return { url: `postgres://${USER}@127.0.0.1:${port}/${DATABASE}`, stop };
  } catch (error) {
    stop();
    throw error;
  }
}

/**
 * initdb is most of a start's time (it runs the bootstrap backend several times), so its
 * result is made once per machine in a template dir and copied for each cluster.
 */
function copyTemplate(data) {
  const template = path.join(os.tmpdir(), `colony-pg15-template-${USER}`);
  if (!existsSync(path.join(template, 'PG_VERSION'))) {
    // Made beside it, then renamed: a concurrent start never copies a half-made one.
    const staging = mkdtempSync(`${template}-staging-`);
    if (isRoot()) fixOwner(staging);
    const made = path.join(staging, 'data');
    runBin('initdb', [
      '-D',
      made,
      '-A',
      'trust',
      '-U',
      USER,
      '-N',
      '-E',
      'UTF8',
    ]);
    try {
      renameSync(made, template);
    } catch (error) {
      // Another start renamed its copy first: use that one.
      if (!existsSync(path.join(template, 'PG_VERSION'))) throw error;
    }
    rmSync(staging, { recursive: true, force: true });
  }
  const copy = spawnSync('cp', ['-a', template, data], { encoding: 'utf8' });
  if (copy.status !== 0) {
    throw new Error(`cp ${template}: ${copy.stderr || copy.error?.message}`);
  }
}

/** The temp dir must belong to `postgres` so that initdb (run as it) may write there. */
function fixOwner(dir) {
  const uid = Number(
    spawnSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).stdout,
  );
  const gid = Number(
    spawnSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).stdout,
  );
  if (!Number.isInteger(uid) || !Number.isInteger(gid)) {
    throw new Error("no `postgres` user: is Debian's postgresql installed?");
  }
  chownSync(dir, uid, gid);
}

async function main(argv) {
  ensurePostgresInstalled();
  const split = argv.indexOf('--');
  if (split < 0) return 0;
  const [command, ...args] = argv.slice(split + 1);
  if (command === undefined) throw new Error('nothing to run after --');
  const { url, stop } = await startPostgres();
  log(`running at ${url}`);
  const child = spawn(command, args, {
    stdio: 'inherit',
    env: { ...process.env, COLONY_TEST_PG_URL: url },
  });
  const forward = (signal) => child.kill(signal);
  process.on('SIGINT', forward);
  process.on('SIGTERM', forward);
  const code = await new Promise((resolve) => {
    child.on('error', (error) => {
      log(`could not run ${command}: ${error.message}`);
      resolve(1);
    });
    child.on('exit', (status, signal) => resolve(status ?? (signal ? 1 : 0)));
  });
  stop();
  return code;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (error) => {
      log(error.message);
      process.exit(1);
    },
  );
}
