import type { Writable } from "node:stream";
import { DfError } from "@df/interface/errors";

/**
 * Writes pieces that arrive in any order to a stream in byte order, cut to the wanted
 * range. Only pieces that arrive ahead of a missing one are held, and never more than
 * `maxBufferedBytes`: past that the download is failed rather than memory blown.
 */
export class OrderedWriter {
  readonly #pending = new Map<number, Buffer>();
  #next: number;
  #buffered = 0;
  #written = 0;

  constructor(
    private readonly out: Writable,
    private readonly range: { start: number; end: number },
    private readonly maxBufferedBytes: number,
    /** Sees every chunk in byte order, as written (a digest verifier). */
    private readonly onChunk?: (chunk: Buffer) => void,
  ) {
    this.#next = range.start;
  }

  get written(): number {
    return this.#written;
  }

  get expected(): number {
    return this.range.end - this.range.start;
  }

  /** Resolves once `content` is written or copied: the caller may then reuse its memory. */
  async add(offset: number, content: Buffer): Promise<void> {
    const end = offset + content.length;
    if (end <= this.range.start || offset >= this.range.end) return;
    const from = Math.max(offset, this.range.start);
    const slice = content.subarray(from - offset, Math.min(end, this.range.end) - offset);
    if (from !== this.#next) {
      // Copied: the caller's bytes may be reused once add() returns (see serverStreamCall).
      this.#pending.set(from, Buffer.from(slice));
      this.#buffered += slice.length;
      if (this.#buffered > this.maxBufferedBytes) {
        throw new DfError("RESOURCE_EXHAUSTED", `more than ${this.maxBufferedBytes} bytes arrived ahead of a missing piece`);
      }
      return;
    }
    await this.#write(slice);
    for (let held = this.#pending.get(this.#next); held; held = this.#pending.get(this.#next)) {
      this.#pending.delete(this.#next);
      this.#buffered -= held.length;
      await this.#write(held);
    }
  }

  #write(chunk: Buffer): Promise<void> {
    this.onChunk?.(chunk);
    this.#next += chunk.length;
    this.#written += chunk.length;
    return new Promise((resolve, reject) => {
      this.out.write(chunk, (error) => (error ? reject(error) : resolve()));
    });
  }
}
