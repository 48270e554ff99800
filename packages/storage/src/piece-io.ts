import type { FileHandle } from "node:fs/promises";
import { DfError, throwIfAborted } from "@df/interface";

/** pwrite until every byte is down; a regular file may still take fewer bytes per call. */
export async function writeFully(handle: FileHandle, data: Uint8Array, position: number): Promise<void> {
  let done = 0;
  while (done < data.byteLength) {
    const { bytesWritten } = await handle.write(data, done, data.byteLength - done, position + done);
    done += bytesWritten;
  }
}

/** pread until `target` is full; running into the end of the file means it was cut short. */
export async function readFully(handle: FileHandle, target: Uint8Array, position: number): Promise<void> {
  let done = 0;
  while (done < target.byteLength) {
    const { bytesRead } = await handle.read(target, done, target.byteLength - done, position + done);
    if (bytesRead === 0) {
      throw new DfError("DATA_LOSS", `the content file ends at ${position + done}, before the ${target.byteLength} bytes asked for at ${position}`, {
        reason: "content-truncated",
        details: { position, length: target.byteLength },
      });
    }
    done += bytesRead;
  }
}

export interface StreamedPiece {
  number: number;
  offset: number;
  length: number;
}

/**
 * Writes the chunks of `source` at the piece's offset as they arrive. Each chunk's
 * write goes to the thread pool first and `onChunk` (the CRC) runs on this thread while
 * it is under way. The piece's length is enforced before a byte lands outside it, so a
 * source that sends too much can never overwrite the next piece.
 */
export async function writeFromStream(
  write: (chunk: Uint8Array, position: number) => Promise<void>,
  source: AsyncIterable<Uint8Array>,
  piece: StreamedPiece,
  onChunk: (chunk: Uint8Array) => void,
  signal: AbortSignal | undefined,
): Promise<void> {
  let written = 0;
  const iterator = source[Symbol.asyncIterator]();
  try {
    for (;;) {
      // Raced against the signal: a source that stalls (a dead peer's socket) must not
      // hold the write, and its lease on the task, past an abort.
      const next = await nextOrAbort(iterator, signal);
      if (next.done) break;
      const chunk = next.value;
      throwIfAborted(signal);
      if (written + chunk.byteLength > piece.length) throw lengthMismatch(piece, `more than ${piece.length}`);
      const writing = write(chunk, piece.offset + written);
      onChunk(chunk);
      written += chunk.byteLength;
      await writing;
    }
  } catch (error) {
    // As `for await` would on a throw, but without waiting: a stalled source may
    // only settle its return() once its pending next() does.
    void Promise.resolve()
      .then(() => iterator.return?.())
      .catch(() => {});
    throw error;
  }
  if (written !== piece.length) throw lengthMismatch(piece, String(written));
}

function nextOrAbort<T>(iterator: AsyncIterator<T>, signal: AbortSignal | undefined): Promise<IteratorResult<T>> {
  if (!signal) return iterator.next();
  throwIfAborted(signal);
  return new Promise<IteratorResult<T>>((resolve, reject) => {
    const onAbort = (): void => {
      try {
        throwIfAborted(signal);
      } catch (error) {
        reject(error);
      }
    };
    signal.addEventListener("abort", onAbort, { once: true });
    iterator.next().then(
      (result) => {
        signal.removeEventListener("abort", onAbort);
        resolve(result);
      },
      (error: unknown) => {
        signal.removeEventListener("abort", onAbort);
        reject(error);
      },
    );
  });
}

function lengthMismatch(piece: StreamedPiece, got: string): DfError {
  return new DfError(
    "DATA_LOSS",
    `piece ${piece.number} is ${piece.length} bytes but its source sent ${got}; drop it and fetch the piece again`,
    { reason: "piece-length-mismatch", details: { number: piece.number, expected: piece.length } },
  );
}
