/**
 * Task module sources for hosts whose threads cannot fetch them (Node threads get the
 * source text by message): each hash is fetched once, and a failed fetch is forgotten
 * so that a later batch tries again.
 */
export class ModuleSources {
  readonly #load: (hash: string) => Promise<string>;
  readonly #loading = new Map<string, Promise<string>>();
  readonly #ready = new Map<string, string>();

  constructor(load: (hash: string) => Promise<string>) {
    this.#load = load;
  }

  /** The source if fetched; else undefined, and a fetch under way. */
  get(
    hash: string,
    onReady: () => void,
    onFail: (hash: string, error: unknown) => void,
  ): string | undefined {
    const source = this.#ready.get(hash);
    if (source !== undefined || this.#loading.has(hash)) return source;
    const loading = this.#load(hash);
    this.#loading.set(hash, loading);
    loading.then(
      (text) => {
        this.#ready.set(hash, text);
        onReady();
      },
      (error: unknown) => {
        this.#loading.delete(hash);
        onFail(hash, error);
      },
    );
    return undefined;
  }
}
