/** `colony submit MODULE --inputs FILE`: bundle, submit, stream inputs, optionally wait. */
import { createWriteStream, existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { once } from 'node:events';
import { AppError, ErrorCode } from '../../shared/errors.js';
import {
  bundleModule,
  type ColonyClient,
  type JobDetail,
} from '../client/index.js';
import type { ResultLine } from '../../shared/job.js';
import type { Flags } from './flags.js';
import { clientFrom } from './common.js';
import { endLine, showProgress } from './progress.js';

/** How long `--wait` keeps trying to reach a master that went away. */
const GIVE_UP_MS = 10 * 60_000;

/** Inputs sent with the job itself; the rest of a big `.json` array is appended. */
const FIRST_BATCH = 10_000;

export async function runSubmit(
  modulePath: string,
  flags: Flags,
): Promise<void> {
  if (!existsSync(modulePath)) {
    throw new AppError(
      ErrorCode.InvalidArgument,
      `no such module file: ${modulePath}`,
    );
  }
  if (!flags.inputs) {
    throw new AppError(
      ErrorCode.InvalidArgument,
      'submit needs --inputs FILE (.json array or .jsonl)',
    );
  }
  if (!existsSync(flags.inputs)) {
    throw new AppError(
      ErrorCode.InvalidArgument,
      `no such inputs file: ${flags.inputs}`,
    );
  }
  const client = clientFrom(flags);
  const module = await bundleModule(modulePath);
  const options = {
    ...(flags.timeout ? { timeoutMs: flags.timeout } : {}),
    ...(flags['max-attempts'] ? { maxAttempts: flags['max-attempts'] } : {}),
    ...(flags.replicas ? { replicas: flags.replicas } : {}),
    ...(flags.priority !== undefined ? { priority: flags.priority } : {}),
    ...(flags['no-backups'] ? { backups: false } : {}),
  };
  const name = flags.name ?? path.basename(modulePath).replace(/\.[^.]+$/, '');
  const ext = path.extname(flags.inputs).toLowerCase();
  const description = flags.description;
  const about = description ? { description } : {};
  let id: string;
  let total: number;
  if (ext === '.jsonl' || ext === '.ndjson') {
    ({ id } = await client.submit({
      name,
      ...about,
      module,
      options,
      sealed: false,
    }));
    total = await client.appendFile(id, flags.inputs);
    await client.seal(id);
  } else if (ext === '.json') {
    let inputs: unknown;
    try {
      inputs = JSON.parse(readFileSync(flags.inputs, 'utf8'));
    } catch (error) {
      throw new AppError(
        ErrorCode.InvalidArgument,
        `${flags.inputs} is not JSON: ${(error as Error).message}`,
      );
    }
    if (!Array.isArray(inputs)) {
      throw new AppError(
        ErrorCode.InvalidArgument,
        `${flags.inputs} must hold a JSON array of inputs`,
      );
    }
    ({ id } = await client.submit({
      name,
      ...about,
      module,
      options,
      inputs: inputs.slice(0, FIRST_BATCH),
      sealed: inputs.length <= FIRST_BATCH,
    }));
    for (let start = FIRST_BATCH; start < inputs.length; start += FIRST_BATCH) {
      await client.append(id, inputs.slice(start, start + FIRST_BATCH));
    }
    if (inputs.length > FIRST_BATCH) await client.seal(id);
    total = inputs.length;
  } else {
    throw new AppError(
      ErrorCode.InvalidArgument,
      `--inputs must be .json, .jsonl or .ndjson, not ${ext || 'no extension'}`,
    );
  }
  process.stderr.write(`submitted job ${id} (${name}): ${total} tasks\n`);
  if (!flags.wait) {
    process.stdout.write(`${id}\n`);
    return;
  }
  await waitAndWrite(client, id, flags.out);
}

/** Streams results (to --out or stdout) until the job ends, with progress on stderr. */
export async function waitAndWrite(
  client: ColonyClient,
  id: string,
  out: string | undefined,
): Promise<void> {
  const sink = out ? createWriteStream(out) : process.stdout;
  // Tasks already written: a stream resumed after a master restart starts over.
  let seen = new Uint8Array(1024);
  let written = 0;
  let delayMs = 250;
  let unreachableSince = 0;
  let job: JobDetail | null = null;
  while (!job) {
    const progress = showProgress(client, id);
    try {
      for await (const lines of client.resultLines(id, { follow: true })) {
        // The master's lines are written as they are (bytes already as $base64): only
        // the index is read, to write each task once.
        let text = '';
        for (const line of lines) {
          const index = lineIndex(line);
          if (index >= seen.length) {
            const grown = new Uint8Array(Math.max(seen.length * 2, index + 1));
            grown.set(seen);
            seen = grown;
          }
          if (seen[index]) continue;
          seen[index] = 1;
          text += `${line}\n`;
          written++;
        }
        if (text && !sink.write(text)) await once(sink, 'drain');
      }
      // The stream ends when the job does, or when the master goes away: ask which.
      const state = await client.job(id);
      if (state.state !== 'running') job = state;
      unreachableSince = 0;
      delayMs = 250;
    } catch (error) {
      // A master that restarts (crash, upgrade) is waited for; other errors are final.
      if (error instanceof AppError && error.code !== ErrorCode.Unreachable)
        throw error;
      unreachableSince ||= Date.now();
      if (Date.now() - unreachableSince > GIVE_UP_MS) throw error;
      process.stderr.write(
        `colony: lost the master (${(error as Error).message}); retrying in ${delayMs} ms\n`,
      );
      await new Promise((resolve) => setTimeout(resolve, delayMs));
      delayMs = Math.min(delayMs * 2, 5_000);
    } finally {
      progress.stop();
    }
  }
  if (out) {
    sink.end();
    await once(sink, 'finish');
  }
  process.stderr.write(
    `${endLine(job)}; ${written} results${out ? ` in ${out}` : ''}\n`,
  );
  if (job.state === 'cancelled') process.exitCode = 3;
}

/** The task index of a results line; the master writes it first, so it is read there. */
export function lineIndex(line: string): number {
  const prefix = '{"index":';
  if (line.startsWith(prefix)) {
    let index = 0;
    let i = prefix.length;
    for (
      let c = line.charCodeAt(i);
      c >= 0x30 && c <= 0x39;
      c = line.charCodeAt(++i)
    )
      index = index * 10 + (c - 0x30);
    const digits = i - prefix.length;
    if (digits > 0 && digits <= 15 && line.charCodeAt(i) === 0x2c) return index;
  }
  return (JSON.parse(line) as ResultLine).index;
}
