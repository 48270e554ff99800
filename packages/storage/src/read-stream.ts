import { Readable } from "node:stream";

/**
 * Wraps a generator of chunks as a byte stream. Unlike `Readable.from`, destroying the
 * stream aborts `stop` first: a generator parked on "wait for piece N" can only finish
 * (and release its lease) once that wait is cancelled, and `Readable.from` would wait
 * for the generator before the abort could ever happen.
 */
export function chunkStream(chunks: AsyncGenerator<Buffer, void, undefined>, stop: AbortController, highWaterMark: number): Readable {
  let pulling = false;
  return new Readable({
    highWaterMark,
    read() {
      if (pulling) return;
      pulling = true;
      void (async () => {
        try {
          for (;;) {
            const next = await chunks.next();
            if (this.destroyed) return;
            if (next.done) {
              this.push(null);
              return;
            }
            if (!this.push(next.value)) return;
          }
        } catch (error) {
          if (!this.destroyed) this.destroy(error as Error);
        } finally {
          pulling = false;
        }
      })();
    },
    destroy(error, callback) {
      stop.abort();
      chunks.return(undefined).then(
        () => callback(error),
        (failure: unknown) => callback(error ?? (failure as Error)),
      );
    },
  });
}
