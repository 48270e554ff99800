import type { DfError } from "@df/interface";
import { abortError } from "./abort.js";

/**
 * A piece being written now by a writer that knows its digest up front (bytes from a
 * parent that announced it). Its bytes may be served on as they land, before the piece
 * is checked and stored ("cut-through"): on a chain of hosts a piece then takes about
 * the time of one hop instead of one whole-piece transfer per hop. Whoever reads it
 * still checks the whole piece against the digest, so bytes that turn out bad here are
 * caught there too.
 */
export class ArrivingPiece {
  readonly number: number;
  readonly offset: number;
  readonly length: number;
  /** The digest the piece must match ("crc32:<decimal>"), as its own parent announced it. */
  readonly digest: string;
  #written = 0;
  #outcome: "stored" | DfError | undefined;
  readonly #waiters = new Set<() => void>();

  constructor(piece: { number: number; offset: number; length: number; digest: string }) {
    this.number = piece.number;
    this.offset = piece.offset;
    this.length = piece.length;
    this.digest = piece.digest;
  }

  /** Bytes from the start of the piece that are on disk. */
  get written(): number {
    return this.#written;
  }

  /** Checked and stored: from now on it is an ordinary piece of the task. */
  get stored(): boolean {
    return this.#outcome === "stored";
  }

  /** Why the write failed, once it did (the piece is then not stored here). */
  get failure(): DfError | undefined {
    return this.#outcome === "stored" ? undefined : this.#outcome;
  }

  /** @internal The writer put `bytes` more on disk, right after the previous ones. */
  advance(bytes: number): void {
    this.#written = Math.min(this.length, this.#written + bytes);
    this.#wake();
  }

  /** @internal The write ended: stored, or failed with `error`. */
  settle(outcome: "stored" | DfError): void {
    if (this.#outcome !== undefined) return;
    this.#outcome = outcome;
    if (outcome === "stored") this.#written = this.length;
    this.#wake();
  }

  /**
   * Resolves once the first `bytes` bytes are on disk, or, for bytes up to the piece's
   * end, once the piece is checked and stored: its last bytes never leave before the
   * check, so a reader is never handed a whole piece that failed here. Rejects with the
   * write's error if it fails first, or when `signal` aborts.
   */
  async until(bytes: number, signal?: AbortSignal): Promise<void> {
    // Past the end: never satisfied by bytes alone, only by the check.
    const target = bytes >= this.length ? Number.POSITIVE_INFINITY : bytes;
    for (;;) {
      if (this.#outcome === "stored" || (this.#outcome === undefined && this.#written >= target)) return;
      if (this.#outcome !== undefined) throw this.#outcome;
      if (signal?.aborted) throw abortError(signal, `stopped waiting for the bytes of piece ${this.number}`);
      await new Promise<void>((resolve) => {
        const wake = (): void => {
          signal?.removeEventListener("abort", wake);
          this.#waiters.delete(wake);
          resolve();
        };
        this.#waiters.add(wake);
        signal?.addEventListener("abort", wake, { once: true });
      });
    }
  }

  #wake(): void {
    for (const wake of [...this.#waiters]) wake();
  }
}
