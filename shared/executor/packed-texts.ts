/**
 * Output texts cross from a task thread to its host as one string per message: the
 * `json` outcomes' texts joined, each value replaced by its text's length. A
 * structured clone of one string is one copy; of an array of small strings it costs a
 * few hundred nanoseconds per string each way (allocation, header, GC), more than the
 * task that wrote a small record. The host reads each text back as a slice of that one
 * string (no copy).
 */
import { Status, type ThreadOutcomes } from '../task-runner.js';

/** Packs the `json` texts of `message` in place (a message without any is left as is). */
export function packTexts(message: ThreadOutcomes): ThreadOutcomes {
  const { status, values } = message;
  let texts: string[] | null = null;
  for (let k = 0; k < status.length; k++) {
    if (status[k] !== Status.json) continue;
    const text = values[k] as string;
    (texts ??= []).push(text);
    values[k] = text.length;
  }
  if (texts !== null) message.texts = texts.join('');
  return message;
}

/**
 * Reads the texts of a message back, in order, as `packTexts` wrote them. The host
 * cannot take a thread's word (task code can post on the thread's port): a length
 * that is not a whole number within what is left reads as null (the task fails).
 */
export class TextReader {
  readonly #texts: string | undefined;
  #at = 0;

  constructor(message: ThreadOutcomes) {
    this.#texts = message.texts;
  }

  /** The text of the next `json` outcome whose value is `value`. */
  next(value: unknown): unknown {
    const texts = this.#texts;
    // Not packed: the value is the text itself.
    if (texts === undefined) return value;
    if (typeof value !== 'number' || !Number.isInteger(value) || value < 0)
      return null;
    const end = this.#at + value;
    if (end > texts.length) return null;
    const text = texts.slice(this.#at, end);
    this.#at = end;
    return text;
  }
}
