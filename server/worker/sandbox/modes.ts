/**
 * How the sandboxed child is started in each mode, and which mode `auto` picks:
 *
 * - `bwrap`: bubblewrap with every namespace unshared (user, PID, IPC, network, UTS,
 *   mount), no environment, all capabilities dropped, no new privileges, and a file
 *   system holding only the node binary with its libraries, the child's bundle
 *   (read-only), a read-only /dev of null, zero, random and urandom (no terminal) and
 *   a small private tmpfs as /tmp. Node's permission model runs inside
 *   it too, so task code can neither spawn a process nor write outside /tmp.
 * - `permission`: the same child under Node's permission model only (no fs write, no
 *   reads outside the child's bundle, no child processes); the network stays reachable.
 * - `none`: no child at all (the thread pool runs in the worker's process).
 *
 * In both sandboxed modes the child starts with an empty environment and capped address
 * space and open files (`ulimit` in a `sh` wrapper: limits survive `exec`).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, realpathSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ChildOptions } from './messages.js';

export const SANDBOX_MODES = ['auto', 'bwrap', 'permission', 'none'] as const;
export type SandboxChoice = (typeof SANDBOX_MODES)[number];
export type SandboxMode = Exclude<SandboxChoice, 'auto'>;

/** Where the child's bundle is mounted inside bubblewrap. */
const INSIDE_DIR = '/colony';
/** Size of the private /tmp inside bubblewrap. */
export const TMP_BYTES = 64 * 1024 * 1024;
export const MAX_OPEN_FILES = 1_024;
const DEFAULT_HEAP_MB = 1_024;

export interface ChildCommand {
  command: string;
  args: string[];
  env: Record<string, string>;
  cwd: string;
}

/** The directory of the child's bundle (dist/sandbox: child.js, thread.js). */
export function childDir(): string {
  const here = path.dirname(fileURLToPath(import.meta.url));
  const candidates = [
    path.join(here, 'sandbox'), // bundled: dist/cli.js
    path.resolve(here, '../../../dist/sandbox'), // sources: server/worker/sandbox
  ];
  const found = candidates.find((dir) =>
    existsSync(path.join(dir, 'child.js')),
  );
  if (!found)
    throw new Error(
      'the sandbox bundle (dist/sandbox/child.js) is missing: run `node scripts/build.mjs`',
    );
  return found;
}

/** Address space the child may map: V8 reserves far more than it uses, per thread. */
export function addressSpaceMb(options: ChildOptions): number {
  const heap = options.threadMemoryMb ?? DEFAULT_HEAP_MB;
  return 2_048 + options.threads * (heap + 1_024);
}

/** Runs `command args` with the child's resource limits applied first. */
function withLimits(
  options: ChildOptions,
  command: string,
  args: string[],
): { command: string; args: string[] } {
  // The child is in the worker's process group: a Ctrl-C in the terminal is the
  // worker's to handle (it stops the child), so bubblewrap ignores SIGINT (inherited)
  // and so does the child (child.ts: node resets inherited dispositions).
  const script = `trap '' INT; ulimit -n ${MAX_OPEN_FILES} && ulimit -v ${addressSpaceMb(options) * 1024} && exec "$@"`;
  return {
    command: '/bin/sh',
    args: ['-c', script, 'colony-sandbox', command, ...args],
  };
}

let nodeFilesCache: string[] | null = null;

/** The node binary and the shared libraries it loads (from `ldd`, run once). */
function nodeFiles(): string[] {
  nodeFilesCache ??= findNodeFiles();
  return nodeFilesCache;
}

function findNodeFiles(): string[] {
  const node = realpathSync(process.execPath);
  const files = new Set<string>([node]);
  try {
    const out = execFileSync('ldd', [node], { encoding: 'utf8' });
    for (const match of out.matchAll(/(?:=>\s*)?(\/\S+)\s+\(0x/g))
      files.add(match[1] as string);
  } catch {
    // A static binary, or no ldd: fall back to the usual library directories.
    for (const dir of ['/lib', '/lib64', '/usr/lib'])
      if (existsSync(dir)) files.add(dir);
  }
  return [...files];
}

function permissionFlags(readDir: string, writeDir: string | null): string[] {
  return [
    '--experimental-permission',
    '--allow-worker',
    `--allow-fs-read=${readDir}/*`,
    ...(writeDir ? [`--allow-fs-write=${writeDir}/*`] : []),
    '--no-warnings',
  ];
}

/**
 * The devices the child gets: no terminal among them. With no `/dev/tty` (and no
 * `/dev/pts`) and no inherited terminal fd, the child cannot reach the worker's
 * controlling terminal (no `TIOCSTI` keystrokes into the user's shell), which is what
 * bubblewrap's `--new-session` guards against; that flag is not used because a new
 * session is a scheduler autogroup of its own on Linux, which cost throughput.
 */
const DEVICES = ['/dev/null', '/dev/zero', '/dev/random', '/dev/urandom'];

/** The bubblewrap command line around `nodeArgs` (run by the node binary inside). */
export function bwrapArgs(dir: string, nodeArgs: string[]): string[] {
  const binds = nodeFiles().flatMap((file) => ['--ro-bind', file, file]);
  const devices = DEVICES.flatMap((device) => ['--dev-bind', device, device]);
  return [
    '--unshare-all',
    '--unshare-user',
    '--disable-userns',
    '--uid',
    '65534',
    '--gid',
    '65534',
    '--die-with-parent',
    '--clearenv',
    '--setenv',
    'HOME',
    '/tmp',
    '--cap-drop',
    'ALL',
    ...binds,
    '--ro-bind',
    dir,
    INSIDE_DIR,
    '--proc',
    '/proc',
    '--tmpfs',
    '/dev',
    ...devices,
    '--remount-ro',
    '/dev',
    '--size',
    String(TMP_BYTES),
    '--tmpfs',
    '/tmp',
    '--chdir',
    '/tmp',
    realpathSync(process.execPath),
    ...nodeArgs,
  ];
}

/** How to start the child in `mode` (a sandboxed one). */
export function childCommand(
  mode: Exclude<SandboxMode, 'none'>,
  options: ChildOptions,
  dir = childDir(),
): ChildCommand {
  const json = JSON.stringify(options);
  if (mode === 'bwrap') {
    const nodeArgs = [
      ...permissionFlags(INSIDE_DIR, '/tmp'),
      `${INSIDE_DIR}/child.js`,
      json,
    ];
    return {
      ...withLimits(options, 'bwrap', bwrapArgs(dir, nodeArgs)),
      env: {},
      cwd: dir,
    };
  }
  const args = [
    ...permissionFlags(dir, null),
    path.join(dir, 'child.js'),
    json,
  ];
  return { ...withLimits(options, process.execPath, args), env: {}, cwd: dir };
}

/**
 * True if bubblewrap can run node here (user namespaces allowed, bwrap installed): the
 * very sandbox the child gets, running `node --version` (cheap: no V8 start), since a
 * worker may be restarted often.
 */
export function bwrapWorks(dir = childDir()): boolean {
  const result = spawnSync('bwrap', bwrapArgs(dir, ['--version']), {
    env: {},
    stdio: 'ignore',
    timeout: 10_000,
  });
  return result.status === 0;
}

/** True if this node has the permission model (node >= 20). */
export function permissionWorks(dir = childDir()): boolean {
  const result = spawnSync(
    process.execPath,
    [...permissionFlags(dir, null), '-e', '0'],
    { env: {}, stdio: 'ignore', timeout: 10_000 },
  );
  return result.status === 0;
}

/**
 * The mode to run: `auto` picks the strongest that works here; a named mode is checked
 * so that the worker fails at start (not on its first task) if it cannot work.
 */
export function resolveSandbox(choice: SandboxChoice): SandboxMode {
  if (choice === 'none') return 'none';
  const dir = childDir();
  if (choice === 'bwrap' || choice === 'auto') {
    if (bwrapWorks(dir)) return 'bwrap';
    if (choice === 'bwrap')
      throw new Error(
        'bubblewrap cannot run here (is it installed, `apt-get install bubblewrap`, and are user namespaces allowed?); try --sandbox permission',
      );
  }
  if (permissionWorks(dir)) return 'permission';
  throw new Error(
    "this node has no permission model (node >= 20 needed); use --sandbox none only if you trust every job's code",
  );
}
