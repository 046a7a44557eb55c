/**
 * `colony` command line: parses flags (zod-validated), then calls into the parts.
 * Every command exits non-zero with a one-line, actionable message on bad input.
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import * as z from 'zod';
import { AppError } from '../shared/errors.js';
import { runCancel, runResults, runStatus } from './commands/inspect.js';
import { runDemo } from './commands/demo.js';
import { runMaster } from './commands/master.js';
import { runSubmit } from './commands/submit.js';
import { runWorker } from './commands/worker.js';
import { SANDBOX_MODES } from './worker/sandbox/modes.js';

const HELP = `colony: volunteer computing over WebSocket

Usage:
  colony master [--host 127.0.0.1] [--port 8080] [--data ./colony-data] [--token T]
                [--store sqlite|memory] [--fsync normal|full] [--heartbeat-ms 10000]
  colony worker [URL] [--threads N] [--name NAME] [--window N] [--memory-mb MB]
                [--sandbox auto|bwrap|permission|none]
                                            URL defaults to http://127.0.0.1:8080;
                                            task code runs in a sandbox: auto (the
                                            default) picks bwrap (bubblewrap: no
                                            network, no files) if it works here, else
                                            permission (Node's permission model: no
                                            files, but network reachable); none runs
                                            it unconfined (only for code you trust)
  colony submit MODULE --inputs FILE [--url URL] [--token T] [--name N]
                [--timeout MS] [--max-attempts N] [--replicas K] [--priority P]
                [--wait] [--out FILE]
  colony status [--url URL]                 jobs and workers as a table
  colony results JOB [--url URL] [--token T] [--out FILE]
                                            NDJSON, one line per task
  colony cancel JOB [--url URL] [--token T]
  colony demo [--port 8080] [--data DIR] [--once]
                                            master + a demo job + one local worker
  colony help

The token comes from --token, else COLONY_TOKEN, else ./colony-data/token.
Every command takes --log-level (fatal|error|warn|info|debug|trace|silent); logs go to
stderr as JSON lines (pino).
`;

const OPTIONS = {
  host: { type: 'string' },
  port: { type: 'string' },
  data: { type: 'string' },
  token: { type: 'string' },
  store: { type: 'string' },
  fsync: { type: 'string' },
  'heartbeat-ms': { type: 'string' },
  'log-level': { type: 'string' },
  threads: { type: 'string' },
  name: { type: 'string' },
  window: { type: 'string' },
  'memory-mb': { type: 'string' },
  sandbox: { type: 'string' },
  url: { type: 'string' },
  inputs: { type: 'string' },
  timeout: { type: 'string' },
  'max-attempts': { type: 'string' },
  replicas: { type: 'string' },
  priority: { type: 'string' },
  wait: { type: 'boolean' },
  out: { type: 'string' },
  once: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const satisfies ParseArgsConfig['options'];

const int = (name: string, min: number, max: number) =>
  z
    .string()
    .regex(/^\d+$/, `--${name} must be a whole number`)
    .transform(Number)
    .pipe(
      z
        .number()
        .int()
        .min(min, `--${name} must be at least ${min}`)
        .max(max, `--${name} must be at most ${max}`),
    );

/** Every flag, validated. Unknown flags are refused by parseArgs (strict). */
export const Flags = z.object({
  host: z.string().min(1).optional(),
  port: int('port', 0, 65_535).optional(),
  data: z.string().min(1).optional(),
  token: z.string().min(1).optional(),
  store: z
    .enum(['sqlite', 'memory'], { error: '--store must be sqlite or memory' })
    .optional(),
  fsync: z
    .enum(['normal', 'full'], { error: '--fsync must be normal or full' })
    .optional(),
  'heartbeat-ms': int('heartbeat-ms', 50, 3_600_000).optional(),
  'log-level': z
    .enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])
    .optional(),
  threads: int('threads', 1, 256).optional(),
  name: z.string().min(1).max(100).optional(),
  window: int('window', 1, 100_000).optional(),
  'memory-mb': int('memory-mb', 16, 65_536).optional(),
  sandbox: z
    .enum(SANDBOX_MODES, {
      error: '--sandbox must be auto, bwrap, permission or none',
    })
    .optional(),
  url: z
    .url({ error: '--url must be a URL like http://127.0.0.1:8080' })
    .optional(),
  inputs: z.string().min(1).optional(),
  timeout: int('timeout', 50, 7 * 24 * 3_600_000).optional(),
  'max-attempts': int('max-attempts', 1, 100).optional(),
  replicas: int('replicas', 1, 16).optional(),
  priority: int('priority', 0, 100).optional(),
  wait: z.boolean().optional(),
  out: z.string().min(1).optional(),
  once: z.boolean().optional(),
  help: z.boolean().optional(),
});
export type Flags = z.infer<typeof Flags>;

function fail(message: string): never {
  process.stderr.write(`colony: ${message}\n`);
  process.exit(2);
}

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
  const flags = Flags.safeParse(parsed.values);
  if (!flags.success) fail(flags.error.issues[0]?.message ?? 'bad flags');
  const f = flags.data;
  if (!command || command === 'help' || f.help) {
    process.stdout.write(HELP);
    return;
  }
  switch (command) {
    case 'master':
      return runMaster(f);
    case 'worker':
      return runWorker(rest[0], f);
    case 'submit':
      if (!rest[0])
        fail('submit needs a task module: colony submit MODULE --inputs FILE');
      return runSubmit(rest[0], f);
    case 'status':
      return runStatus(f);
    case 'results':
      if (!rest[0]) fail('results needs a job id: colony results JOB');
      return runResults(rest[0], f);
    case 'cancel':
      if (!rest[0]) fail('cancel needs a job id: colony cancel JOB');
      return runCancel(rest[0], f);
    case 'demo':
      return runDemo(f);
    default:
      fail(`unknown command ${JSON.stringify(command)}. See \`colony help\`.`);
  }
}

main(process.argv.slice(2)).catch((error: unknown) => {
  if (error instanceof AppError) fail(`${error.message} [${error.code}]`);
  fail((error as Error).stack ?? String(error));
});
