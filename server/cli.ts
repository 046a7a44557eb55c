/**
 * `colony` command line: parses flags (zod-validated), then calls into the parts.
 * Every command exits non-zero with a one-line, actionable message on bad input.
 */
import { parseArgs } from 'node:util';
import { AppError } from '../shared/errors.js';
import { clientFlags } from './commands/client-flags.js';
import type { Flags } from './commands/flags.js';
import { OPTIONS } from './commands/options.js';

const CLIENT_COMMANDS = new Set(['status', 'results', 'cancel', 'delete']);

const HELP = `colony: volunteer computing over WebSocket

Usage:
  colony master [--host 127.0.0.1] [--port 8080] [--data ./colony-data] [--token T]
                [--store sqlite|memory] [--fsync normal|full] [--heartbeat-ms 10000]
                [--tls-cert FILE --tls-key FILE] [--trust-proxy ADDR[,ADDR]]
                [--allowed-origins ORIGIN[,ORIGIN]] [--allowed-hosts HOST[,HOST]]
                [--serve-source-maps]
                                            the token needs 16+ characters; /ws
                                            takes browsers of this master's own
                                            origin and --allowed-origins only;
                                            --allowed-hosts limits Host (DNS
                                            rebinding); the data dir is kept 0700
                [--retain 7d]               purge jobs ended longer ago (7d, 12h,
                                            30m, 90s; default: keep forever)
                [--distinct-addresses on|off]
                                            replicas need distinct volunteers on
                                            distinct addresses (on, the default);
                                            off lets one address (a lab) count as many
                [--max-connections-per-address 256] [--max-handshakes-per-address 32]
                [--handshake-ms 10000]
  colony backup FILE [--data ./colony-data] online copy of the SQLite store (0600)
  colony worker [URL] [--threads N] [--name NAME] [--window N] [--memory-mb MB]
                [--cpu PERCENT]             CPU share per thread, 1..100 (default
                                            100): after a task of t ms a thread
                                            rests t*(100/PERCENT-1) ms
                                            pause: SIGTSTP pauses (running tasks
                                            finish and are sent, unstarted ones go
                                            back), SIGCONT resumes; on a terminal,
                                            p or space toggles
                [--sandbox auto|bwrap|permission|none] [--identity FILE]
                                            the volunteer's key pair, made on first
                                            run (default: $XDG_CONFIG_HOME or
                                            ~/.config, colony/identity.json, 0600)
                                            URL defaults to http://127.0.0.1:8080;
                                            task code runs in a sandbox: auto (the
                                            default) picks bwrap (bubblewrap: no
                                            network, no files) if it works here, else
                                            permission (Node's permission model: no
                                            files, but network reachable); none runs
                                            it unconfined (only for code you trust)
  colony submit MODULE --inputs FILE [--url URL] [--token T] [--name N] [--description TEXT]
                [--timeout MS] [--max-attempts N] [--replicas K] [--priority P] [--no-backups]
                [--wait] [--out FILE]
  colony status [--url URL]                 jobs and workers as a table
  colony results JOB [--url URL] [--token T] [--out FILE]
                                            NDJSON, one line per task
  colony cancel JOB [--url URL] [--token T]
  colony delete JOB [--url URL] [--token T] deletes the job, its inputs and results
                                            (a running job is cancelled first)
  colony demo [--port 8080] [--data DIR] [--once]
                                            master + a demo job + one local worker
  colony help

The token comes from --token, else COLONY_TOKEN, else ./colony-data/token.
Every command takes --log-level (fatal|error|warn|info|debug|trace|silent); logs go to
stderr as JSON lines (pino).
`;

function fail(message: string): never {
  process.stderr.write(`colony: ${message}\n`);
  process.exit(2);
}

/** Every flag checked by the zod schema (flags.ts); exits on the first bad one. */
async function checkedFlags(values: Record<string, unknown>): Promise<Flags> {
  const { Flags: schema } = await import('./commands/flags.js');
  const flags = schema.safeParse(values);
  if (!flags.success) fail(flags.error.issues[0]?.message ?? 'bad flags');
  return flags.data;
}

/**
 * Each command imports its own module when it runs, so that `colony status` does not load
 * the master, the store, esbuild or pino, and `colony help` not even zod.
 */
async function main(argv: string[]): Promise<void> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      options: OPTIONS,
      allowPositionals: true,
      strict: true,
    });
  } catch (error) {
    fail(`${(error as Error).message}. See \`colony help\`.`);
  }
  const [command, ...rest] = parsed.positionals;
  if (!command || command === 'help' || parsed.values.help) {
    process.stdout.write(HELP);
    return;
  }
  // The commands that only talk to a master skip zod when their flags are plain.
  const light = CLIENT_COMMANDS.has(command)
    ? clientFlags(parsed.values)
    : null;
  const f = light ?? (await checkedFlags(parsed.values));
  switch (command) {
    case 'master':
      return (await import('./commands/master.js')).runMaster(f);
    case 'worker':
      return (await import('./commands/worker.js')).runWorker(rest[0], f);
    case 'backup':
      if (!rest[0])
        fail('backup needs a file to write: colony backup FILE [--data DIR]');
      return (await import('./commands/backup.js')).runBackup(rest[0], f);
    case 'submit':
      if (!rest[0])
        fail('submit needs a task module: colony submit MODULE --inputs FILE');
      return (await import('./commands/submit.js')).runSubmit(rest[0], f);
    case 'status':
      return (await import('./commands/inspect.js')).runStatus(f);
    case 'results':
      if (!rest[0]) fail('results needs a job id: colony results JOB');
      return (await import('./commands/inspect.js')).runResults(rest[0], f);
    case 'cancel':
      if (!rest[0]) fail('cancel needs a job id: colony cancel JOB');
      return (await import('./commands/inspect.js')).runCancel(rest[0], f);
    case 'delete':
      if (!rest[0]) fail('delete needs a job id: colony delete JOB');
      return (await import('./commands/inspect.js')).runDelete(rest[0], f);
    case 'demo':
      return (await import('./commands/demo.js')).runDemo(f);
    default:
      fail(`unknown command ${JSON.stringify(command)}. See \`colony help\`.`);
  }
}

main(process.argv.slice(2)).catch((error: unknown) => {
  if (error instanceof AppError) fail(`${error.message} [${error.code}]`);
  fail((error as Error).stack ?? String(error));
});
