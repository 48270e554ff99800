/**
 * Reusable buffers the byte server reads piece bytes into before it writes them to a
 * socket. A fresh 1–4 MiB Buffer per chunk is cheap to allocate but not to collect:
 * external memory that size drives the GC (about a second of GC per few GiB served)
 * and lifts the daemon's RSS. A buffer goes back only once the socket is done with it
 * (its write callback ran); one whose fate is unknown (the connection broke mid-write)
 * is dropped and left to the GC instead.
 */
export class ChunkPool {
  readonly size: number;
  readonly #free: Buffer[] = [];
  readonly #keep: number;

  /** `keep`: how many idle buffers to hold on to. */
  constructor(size: number, keep: number) {
    this.size = size;
    this.#keep = keep;
  }

  /** Idle buffers held now. */
  get idle(): number {
    return this.#free.length;
  }

  take(): Buffer {
    return this.#free.pop() ?? Buffer.allocUnsafe(this.size);
  }

  give(buffer: Buffer): void {
    if (buffer.byteLength === this.size && this.#free.length < this.#keep) this.#free.push(buffer);
  }
}
