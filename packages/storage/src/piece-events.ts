import type { DfError } from "@df/interface";
import { abortError } from "./abort.js";
import type { Piece } from "./piece-table.js";

export interface PieceListener {
  piece(piece: Piece): void;
  /** The task went away (deleted, or the store closed): no more pieces will come. */
  end(error: DfError): void;
}

interface Waiter {
  resolve(piece: Piece): void;
  reject(error: unknown): void;
}

/**
 * Who is waiting for which piece of one task. Waiters for a single piece are kept per
 * number, so a finished piece wakes only its own waiters; listeners see every piece.
 */
export class PieceEvents {
  readonly #waiters = new Map<number, Set<Waiter>>();
  readonly #listeners = new Set<PieceListener>();
  #ended: DfError | undefined;

  get ended(): DfError | undefined {
    return this.#ended;
  }

  wait(number: number, signal: AbortSignal | undefined, what: string): Promise<Piece> {
    if (this.#ended) return Promise.reject(this.#ended);
    if (signal?.aborted) return Promise.reject(abortError(signal, what));
    return new Promise<Piece>((resolve, reject) => {
      let set = this.#waiters.get(number);
      if (!set) this.#waiters.set(number, (set = new Set()));
      const onAbort = (): void => {
        forget();
        reject(abortError(signal as AbortSignal, what));
      };
      const forget = (): void => {
        signal?.removeEventListener("abort", onAbort);
        set.delete(waiter);
        if (set.size === 0 && this.#waiters.get(number) === set) this.#waiters.delete(number);
      };
      const waiter: Waiter = {
        resolve: (piece) => {
          forget();
          resolve(piece);
        },
        reject: (error) => {
          forget();
          reject(error);
        },
      };
      set.add(waiter);
      signal?.addEventListener("abort", onAbort, { once: true });
    });
  }

  subscribe(listener: PieceListener): () => void {
    if (this.#ended) {
      listener.end(this.#ended);
      return () => {};
    }
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Wakes the piece's waiters, then tells every listener; returns listener failures. */
  publish(piece: Piece): unknown[] {
    const waiters = this.#waiters.get(piece.number);
    if (waiters) for (const waiter of [...waiters]) waiter.resolve(piece);
    const failures: unknown[] = [];
    for (const listener of [...this.#listeners]) {
      try {
        listener.piece(piece);
      } catch (error) {
        failures.push(error);
      }
    }
    return failures;
  }

  end(error: DfError): void {
    if (this.#ended) return;
    this.#ended = error;
    for (const set of [...this.#waiters.values()]) for (const waiter of [...set]) waiter.reject(error);
    for (const listener of [...this.#listeners]) listener.end(error);
    this.#listeners.clear();
  }
}
