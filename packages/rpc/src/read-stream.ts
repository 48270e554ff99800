import { type Readable } from "node:stream";
import { type DfError } from "@df/interface/errors";
import { abortError, onAbort } from "./abort.js";

export interface ReadStreamOptions<T> {
  /** Ends the iteration with the signal's error (see `abortError`). */
  signal?: AbortSignal | undefined;
  /** What is read, for error messages. */
  what: string;
  /** Turns a stream 'error' event into the error the consumer sees. */
  mapError: (error: unknown) => DfError;
  /** Vets each item; throwing ends the iteration with that error. */
  check?: (item: unknown) => T;
  /** Runs once when the consumer stops early or the signal aborts (e.g. cancel the call). */
  onStop?: () => void;
}

// Items buffered here before the stream is paused, so a slow consumer pushes back on
// the sender through HTTP/2 flow control instead of growing memory.
const HIGH_WATER = 16;

/**
 * Reads a grpc-js message stream (either side) as an async iterator: items in order, then
 * the end, or the mapped error. Items that arrived before an error are still delivered.
 */
export function readStream<T>(stream: Readable, options: ReadStreamOptions<T>): AsyncIterableIterator<T> {
  const queue: unknown[] = [];
  let ended = false;
  let aborted = false;
  let closed = false;
  let failure: DfError | undefined;
  let wake: (() => void) | undefined;

  const notify = (): void => {
    const resume = wake;
    wake = undefined;
    resume?.();
  };
  stream.on("data", (item: unknown) => {
    // After the consumer stopped, items are dropped so the sender is never stalled.
    if (closed) return;
    queue.push(item);
    if (queue.length >= HIGH_WATER) stream.pause();
    notify();
  });
  stream.on("end", () => {
    ended = true;
    notify();
  });
  // Kept for the stream's whole life: an 'error' with no listener would crash the process.
  stream.on("error", (error: unknown) => {
    failure ??= options.mapError(error);
    notify();
  });
  let stopListening = (): void => {};
  stopListening = onAbort(options.signal, () => {
    aborted = true;
    failure ??= abortError(options.signal as AbortSignal, options.what);
    // Stop the call now, not when the consumer next reads: it may be busy elsewhere.
    close(true);
    notify();
  });

  function close(stopCall: boolean): void {
    if (closed) return;
    closed = true;
    queue.length = 0;
    stopListening();
    if (stopCall) options.onStop?.();
  }

  function fail(error: DfError): never {
    close(true);
    throw error;
  }

  async function next(): Promise<IteratorResult<T>> {
    for (;;) {
      if (closed && failure === undefined) return { value: undefined, done: true };
      // An abort wins over buffered items: the consumer asked to stop now.
      if (aborted && failure !== undefined) fail(failure);
      if (queue.length > 0) {
        const item = queue.shift();
        if (queue.length < HIGH_WATER / 2 && stream.isPaused()) stream.resume();
        if (options.check === undefined) return { value: item as T, done: false };
        try {
          return { value: options.check(item), done: false };
        } catch (error) {
          failure = options.mapError(error);
          fail(failure);
        }
      }
      // Items still held inside the paused stream arrived before the error; deliver them.
      if (failure !== undefined && (closed || stream.readableLength === 0)) fail(failure);
      if (ended && failure === undefined) {
        close(false);
        return { value: undefined, done: true };
      }
      if (stream.isPaused()) stream.resume();
      await new Promise<void>((resolve) => (wake = resolve));
    }
  }

  const iterator: AsyncIterableIterator<T> = {
    next,
    return(): Promise<IteratorResult<T>> {
      close(!ended);
      failure = undefined;
      return Promise.resolve({ value: undefined, done: true });
    },
    [Symbol.asyncIterator]() {
      return iterator;
    },
  };
  return iterator;
}
