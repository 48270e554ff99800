import type { DfError } from "@df/interface";

type Listener = (error: DfError) => void;

/**
 * Lets the conductor end the SyncPieces streams of a task whose own download failed, so
 * children learn at once that no more pieces will come from here instead of waiting
 * for their stall timeout. Only streams open now are ended: a later download of the
 * same task serves again.
 */
export class TaskFailures {
  readonly #listeners = new Map<string, Set<Listener>>();

  /** Ends every open SyncPieces stream of `taskId` with `error`. */
  fail(taskId: string, error: DfError): void {
    const listeners = this.#listeners.get(taskId);
    if (!listeners) return;
    this.#listeners.delete(taskId);
    for (const listener of listeners) listener(error);
  }

  /** Calls `listener` if the task fails; returns the function that stops watching. */
  watch(taskId: string, listener: Listener): () => void {
    let listeners = this.#listeners.get(taskId);
    if (!listeners) this.#listeners.set(taskId, (listeners = new Set()));
    listeners.add(listener);
    return () => {
      const current = this.#listeners.get(taskId);
      if (!current) return;
      current.delete(listener);
      if (current.size === 0) this.#listeners.delete(taskId);
    };
  }
}
