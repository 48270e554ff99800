import { type Writable } from "node:stream";
import { abortError } from "./abort.js";

export interface PipeOptions {
  /**
   * At most this many messages handed to grpc-js and not yet sent. grpc-js's writable
   * holds 16 messages before it says it is full: for messages that carry piece content
   * (MiBs each) that is tens of MiB per slow reader, so server streams pass a small number
   * here and the next message is only produced (read from disk) while the last is sent.
   */
  maxInFlight?: number;
}

/**
 * Writes every item of `source` to a grpc-js message stream, waiting for 'drain' when the
 * stream is full (or for sends when `maxInFlight` are pending) so a slow reader slows the
 * producer. Stops with the signal's error when it aborts, without waiting for the
 * producer to reach its next yield.
 */
export async function pipeToStream<T>(
  source: AsyncIterable<T>,
  stream: Writable,
  signal: AbortSignal,
  what: string,
  options: PipeOptions = {},
): Promise<void> {
  const iterator = source[Symbol.asyncIterator]();
  const limit = options.maxInFlight ?? Number.POSITIVE_INFINITY;
  let inFlight = 0;
  let sent: (() => void) | undefined;
  const onSent = (): void => {
    inFlight--;
    const wake = sent;
    sent = undefined;
    wake?.();
  };
  try {
    for (;;) {
      const step = await untilAborted(iterator.next(), signal, what);
      if (step.done === true) return;
      // Bounded by `limit`; each pass waits for one send (or the stream's close, after
      // which grpc-js calls back every pending write with an error).
      while (inFlight >= limit) {
        await untilAborted(new Promise<void>((resolve) => (sent = resolve)), signal, what);
      }
      inFlight++;
      if (!stream.write(step.value, onSent)) await untilAborted(drained(stream), signal, what);
    }
  } catch (error) {
    // The producer may be suspended on an await: ask it to finish, but do not wait.
    iterator.return?.().catch(() => {});
    throw error;
  }
}

function drained(stream: Writable): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      stream.off("drain", done);
      stream.off("close", done);
      resolve();
    };
    stream.on("drain", done);
    stream.on("close", done);
  });
}

/** Resolves as `promise` does, or rejects with the signal's error once it aborts. */
export function untilAborted<T>(promise: Promise<T>, signal: AbortSignal, what: string): Promise<T> {
  if (signal.aborted) {
    promise.catch(() => {});
    return Promise.reject(abortError(signal, what));
  }
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => {
      promise.catch(() => {});
      reject(abortError(signal, what));
    };
    signal.addEventListener("abort", onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener("abort", onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener("abort", onAbort);
        reject(error);
      },
    );
  });
}
