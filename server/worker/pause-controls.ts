/**
 * How a volunteer pauses `colony worker` without stopping it: SIGTSTP pauses (handled,
 * so the process is not stopped the way a shell's Ctrl-Z would stop it) and SIGCONT
 * resumes; on a terminal, `p` or space toggles (the terminal is put in raw mode, so
 * Ctrl-Z toggles too and Ctrl-C still stops). A pause finishes the running tasks,
 * sends their results and gives back the ones not started (see WorkerSession.pause).
 */
import type { WorkerSession } from '../../shared/worker-session.js';

export interface PauseControlsOptions {
  session: Pick<WorkerSession, 'pause' | 'resume'>;
  /** Told of each change, for the volunteer to see. */
  say(message: string): void;
  /** Ctrl-C on the raw terminal (which no longer raises SIGINT). */
  onInterrupt(): void;
  /** The terminal to read keys from, if it is one. @defaultValue process.stdin */
  input?: NodeJS.ReadStream;
}

const CTRL_C = '\u0003';
const CTRL_Z = '\u001a';

/** Installs the signal and key handlers; returns a function that removes them. */
export function installPauseControls(
  options: PauseControlsOptions,
): () => void {
  const { session, say } = options;
  let paused = false;
  const pause = () => {
    if (paused) return;
    paused = true;
    session.pause();
    say(
      'paused: running tasks finish and are sent; resume with SIGCONT, p or space',
    );
  };
  const resume = () => {
    if (!paused) return;
    paused = false;
    session.resume();
    say('resumed');
  };
  const toggle = () => (paused ? resume() : pause());
  process.on('SIGTSTP', pause);
  process.on('SIGCONT', resume);

  const input = options.input ?? process.stdin;
  const isTerminal = input.isTTY === true;
  const onKey = (chunk: Buffer | string) => {
    for (const key of chunk.toString()) {
      if (key === CTRL_C) return options.onInterrupt();
      if (key === 'p' || key === 'P' || key === ' ' || key === CTRL_Z) toggle();
    }
  };
  const onError = () => undefined; // a closed terminal only ends the key toggle
  if (isTerminal) {
    input.setRawMode(true);
    input.on('data', onKey);
    input.on('error', onError);
    input.resume();
  }
  return () => {
    process.off('SIGTSTP', pause);
    process.off('SIGCONT', resume);
    if (!isTerminal) return;
    input.off('data', onKey);
    input.off('error', onError);
    input.setRawMode(false);
    input.pause();
  };
}
