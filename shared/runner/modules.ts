/**
 * Task modules of one thread: each imported once per hash, its default export checked
 * to be a function. Once loaded, a module's function is at hand without a promise hop.
 */
import type { TaskFunction } from './messages.js';

export class TaskModules {
  readonly #loading = new Map<string, Promise<TaskFunction>>();
  readonly #ready = new Map<string, TaskFunction>();
  readonly #import: (hash: string) => Promise<unknown>;

  constructor(importModule: (hash: string) => Promise<unknown>) {
    this.#import = importModule;
  }

  /** The module's function if it has loaded. */
  ready(hash: string): TaskFunction | undefined {
    return this.#ready.get(hash);
  }

  load(hash: string): Promise<TaskFunction> {
    let loaded = this.#loading.get(hash);
    if (!loaded) {
      loaded = this.#import(hash).then((mod) => {
        const fn = (mod as { default?: unknown }).default;
        if (typeof fn !== 'function') {
          throw new Error('the task module has no default export function');
        }
        this.#ready.set(hash, fn as TaskFunction);
        return fn as TaskFunction;
      });
      this.#loading.set(hash, loaded);
    }
    return loaded;
  }
}
