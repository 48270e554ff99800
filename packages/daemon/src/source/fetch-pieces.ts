import { setTimeout as sleep } from "node:timers/promises";
import { DfError, noopLogger, toDfError, type Logger, type SourceClient, type SourceRequest, type SourceResponse } from "@df/interface";
import { pieceRange } from "@df/piece";
import type { Piece, Task as StoredTask } from "@df/storage";
import type { PieceBandwidth } from "../bandwidth.js";
import { OriginWatch, type WatchedRequest } from "./origin-watch.js";

/** A piece fetched from the origin and stored. */
export interface SourcePiece extends Piece {
  costMs: number;
}

export interface FetchPiecesOptions {
  task: StoredTask;
  client: SourceClient;
  /** URL and headers for the origin; `range` is set per piece here. */
  request: SourceRequest;
  /** Whether the origin honours byte ranges (from its stat). */
  supportsRange: boolean;
  /**
   * The pieces wanted, asked again as work proceeds so that a target widened meanwhile
   * (another client joined for more of the task) is picked up. Stored pieces are skipped.
   */
  wanted: () => Iterable<number>;
  /** Ranged requests in flight at once. */
  concurrency: number;
  /** Extra attempts after a retryable failure, per piece (ranged) or per stream. */
  retries: number;
  onPiece: (piece: SourcePiece) => void;
  /** The download bandwidth: each piece waits for its bytes before it is fetched and is recorded after. */
  bandwidth?: PieceBandwidth;
  signal?: AbortSignal;
  logger?: Logger;
  /**
   * Longest the origin may send nothing, across all requests (download.sourceStallTimeout):
   * a request silent for a third of it is retried on a new connection, and the fetch
   * fails ("the origin sent nothing for …") once the whole window passes. Unset: only
   * the source plugin's own timeouts apply.
   */
  stallTimeoutMs?: number;
}

/** The options with the run's origin watch, when a stall timeout is set. */
interface Watched extends FetchPiecesOptions {
  watch: OriginWatch | undefined;
}

/**
 * Fills a stored task from its origin: with ranges, a few pieces at once, each from its
 * own ranged GET streamed straight into storage (which computes the CRC-32 as it
 * writes); without, one GET of the whole body cut into pieces as it streams past.
 * Returns once no wanted piece is missing; the first fatal error ends it.
 *
 * The origin's bytes are written through the page cache (its chunks are not aligned, and
 * are not regrouped so that they would be): what a peer fetched from the source it is
 * about to serve to its children, and reads from a warm cache beat reads from disk. On
 * this project's VM, regrouping them for direct I/O halved the seed's first upload
 * (the cache is then filled on the read side instead: ~440 vs ~880 MB/s to a child).
 */
export async function fetchPiecesFromSource(options: FetchPiecesOptions): Promise<void> {
  const watch = options.stallTimeoutMs === undefined ? undefined : new OriginWatch(options.stallTimeoutMs, originOf(options.request.url));
  const watched: Watched = { ...options, watch };
  if (options.supportsRange) await fetchRanged(watched);
  else await fetchStreaming(watched);
}

function originOf(url: string): string {
  try {
    return new URL(url).host || url.split(":")[0]!;
  } catch {
    return "(unparsable URL)";
  }
}

/**
 * When `error` is the request's own idle cut (not the run's end), checks the origin's
 * stall window (throwing the origin-silent error once it passed) and returns true: the
 * request is to be retried at once, on a new connection, without using up a retry.
 */
function retryAfterIdleCut(options: Watched, request: WatchedRequest | undefined, outer: AbortSignal | undefined, what: string): boolean {
  const cut = request?.idleCut;
  if (!cut || outer?.aborted) return false;
  options.watch!.throwIfSilent();
  (options.logger ?? noopLogger).info("a request to the origin went silent; asking again on a new connection", {
    taskId: options.task.id,
    what,
    error: cut.message,
  });
  return true;
}

/** Failures another attempt may fix: the connection, a timeout, a short or corrupt body. */
export function isRetryable(error: DfError): boolean {
  return error.code === "UNAVAILABLE" || error.code === "DEADLINE_EXCEEDED" || error.code === "DATA_LOSS";
}

function backoffMs(attempt: number): number {
  return Math.min(100 * 2 ** attempt, 2000) * (0.5 + Math.random() / 2);
}

async function fetchRanged(options: Watched): Promise<void> {
  const { task } = options;
  const claimed = new Set<number>();
  const stop = new AbortController();
  const signal = options.signal ? AbortSignal.any([options.signal, stop.signal]) : stop.signal;
  let failure: DfError | undefined;

  const next = (): number | undefined => {
    for (const number of options.wanted()) {
      if (!claimed.has(number) && !task.hasPiece(number)) {
        claimed.add(number);
        return number;
      }
    }
    return undefined;
  };

  // Requests join one by one as bytes arrive, so that pieces land one after another
  // from the first fraction of a second, not all together after `concurrency` piece
  // times: children can start on the first piece while the rest stream in.
  const ramp = new Ramp(Math.min(task.pieceLength, task.contentLength), signal);
  const worker = async (index: number): Promise<void> => {
    await ramp.turn(index);
    for (let number = next(); number !== undefined && !failure; number = next()) {
      try {
        await fetchRangedPiece(options, number, signal, ramp);
      } catch (error) {
        // The first error explains the failure; the aborts it causes in the others do not.
        failure ??= toDfError(error);
        stop.abort(failure);
      }
    }
    ramp.open();
  };
  await Promise.all(Array.from({ length: options.concurrency }, (_, index) => worker(index)));
  ramp.open();
  if (failure) throw failure;
}

/** A ramp-up waits at most this long per request for the bytes that let it start. */
const RAMP_STEP_MAX_MS = 500;

/**
 * Lets request i start once i half-pieces have arrived in all, or after
 * i × RAMP_STEP_MAX_MS (a slow origin is not waited on for long).
 */
class Ramp {
  readonly #step: number;
  readonly #waiters = new Map<number, () => void>();
  readonly #signal: AbortSignal;
  #received = 0;
  #opened = false;

  constructor(pieceLength: number, signal: AbortSignal) {
    this.#step = pieceLength / 2;
    this.#signal = signal;
  }

  async turn(index: number): Promise<void> {
    if (index === 0 || this.#opened || this.#received >= index * this.#step) return;
    const signal = this.#signal;
    let timer: NodeJS.Timeout | undefined;
    let onAbort: (() => void) | undefined;
    await new Promise<void>((resolve) => {
      onAbort = resolve;
      timer = setTimeout(resolve, index * RAMP_STEP_MAX_MS);
      signal.addEventListener("abort", onAbort, { once: true });
      this.#waiters.set(index, resolve);
    });
    clearTimeout(timer);
    signal.removeEventListener("abort", onAbort!);
    this.#waiters.delete(index);
  }

  received(bytes: number): void {
    if (this.#opened) return;
    this.#received += bytes;
    for (const [index, wake] of this.#waiters) if (this.#received >= index * this.#step) wake();
  }

  /** Everyone may go (a worker ran out of pieces, or the run ended). */
  open(): void {
    this.#opened = true;
    for (const wake of this.#waiters.values()) wake();
  }
}

async function fetchRangedPiece(options: Watched, number: number, signal: AbortSignal, ramp: Ramp): Promise<void> {
  const { task, logger = noopLogger } = options;
  const range = pieceRange(number, task.contentLength, task.pieceLength);
  // The most bytes of this piece any attempt got: only bytes past it are the origin's progress.
  let reached = 0;
  for (let attempt = 0; ; attempt++) {
    const started = performance.now();
    let response: SourceResponse | undefined;
    let consumed = false;
    let watched: WatchedRequest | undefined;
    try {
      await options.bandwidth?.acquire(task.id, range.length, { signal });
      // Watched from here: the wait for bandwidth above is this host's, not the origin's.
      watched = options.watch?.request(signal, reached);
      response = await options.client.get(
        { ...options.request, range: { start: range.offset, length: range.length }, expectedLength: task.contentLength },
        { signal: watched?.signal ?? signal },
      );
      const body = response.body;
      const onChunk = watched ? (bytes: number) => watched!.bytes(bytes) : undefined;
      const tracked = (async function* () {
        for await (const run of coalesce(body, Math.min(range.length, COALESCE_BYTES), onChunk)) {
          ramp.received(run.byteLength);
          yield run;
        }
        consumed = true;
      })();
      const piece = await task.writePiece(number, tracked, { signal });
      if (!consumed) await response.cancel().catch(() => {});
      options.bandwidth?.record(task.id, range.length);
      options.onPiece({ ...piece, costMs: performance.now() - started });
      return;
    } catch (error) {
      if (response && !consumed) await response.cancel().catch(() => {});
      if (retryAfterIdleCut(options, watched, signal, `piece ${number}`)) {
        attempt--;
        continue;
      }
      const cause = toDfError(error);
      if (signal.aborted || !isRetryable(cause) || attempt >= options.retries) throw cause;
      logger.warn("piece from source failed; retrying", { taskId: task.id, piece: number, attempt: attempt + 1, error: cause.message });
      await sleep(backoffMs(attempt), undefined, { signal }).catch(() => {});
    } finally {
      watched?.close();
      reached = Math.max(reached, watched?.received ?? 0);
    }
  }
}

/**
 * Origin bytes are gathered into writes of this size. A shaped or distant origin
 * arrives in reads of a few KiB; a write, a CRC call and a promise per read cost a
 * back-to-source daemon 18–22 CPU-seconds per 256 MiB at 100 Mbit/s, several times a
 * peer fed by peers.
 */
const COALESCE_BYTES = 256 * 1024;

/**
 * Regroups `source`'s chunks into runs of `size` bytes (the last may be shorter), in
 * one buffer reused for every run: the consumer (storage) is done with a run before it
 * asks for the next.
 */
export async function* coalesce(source: AsyncIterable<Uint8Array>, size: number, onChunk?: (bytes: number) => void): AsyncGenerator<Uint8Array, void, undefined> {
  const buffer = Buffer.allocUnsafe(size);
  let filled = 0;
  for await (const chunk of source) {
    onChunk?.(chunk.byteLength);
    // A read as large as the buffer goes through as it is, unless bytes wait before it.
    if (filled === 0 && chunk.byteLength >= size) {
      yield chunk;
      continue;
    }
    let offset = 0;
    while (offset < chunk.byteLength) {
      const take = Math.min(size - filled, chunk.byteLength - offset);
      buffer.set(chunk.subarray(offset, offset + take), filled);
      filled += take;
      offset += take;
      if (filled === size) {
        yield buffer;
        filled = 0;
      }
    }
  }
  if (filled > 0) yield buffer.subarray(0, filled);
}

/** The first wanted piece at or after `from` that is not stored, or undefined. */
function nextWanted(options: FetchPiecesOptions, from: number): number | undefined {
  let best: number | undefined;
  for (const number of options.wanted()) {
    if (number >= from && !options.task.hasPiece(number) && (best === undefined || number < best)) best = number;
  }
  return best;
}

async function fetchStreaming(options: Watched): Promise<void> {
  const { task, logger = noopLogger } = options;
  let reached = 0;
  for (let attempt = 0; ; attempt++) {
    if (nextWanted(options, 0) === undefined) return;
    const watched = options.watch?.request(options.signal, reached);
    try {
      await streamOnce(options, watched);
      if (nextWanted(options, 0) === undefined) return;
    } catch (error) {
      if (retryAfterIdleCut(options, watched, options.signal, "the whole body")) {
        attempt--;
        continue;
      }
      const cause = toDfError(error);
      if (options.signal?.aborted || !isRetryable(cause) || attempt >= options.retries) throw cause;
      logger.warn("streaming from source failed; retrying from the start", { taskId: task.id, attempt: attempt + 1, error: cause.message });
      await sleep(backoffMs(attempt), undefined, options.signal ? { signal: options.signal } : undefined).catch(() => {});
    } finally {
      watched?.close();
      reached = Math.max(reached, watched?.received ?? 0);
    }
  }
}

/**
 * One GET of the whole body, cut into pieces in order. Pieces already stored are read
 * past (the origin cannot skip them); the stream is dropped once no wanted piece lies
 * further on. One piece is buffered at a time.
 */
async function streamOnce(options: FetchPiecesOptions, watched: WatchedRequest | undefined): Promise<void> {
  const { task } = options;
  const started = performance.now();
  const signal = watched?.signal ?? options.signal;
  const response = await options.client.get({ ...options.request, expectedLength: task.contentLength }, signal ? { signal } : {});
  let finished = false;
  try {
    let number = 0;
    let length = pieceRange(0, task.contentLength, task.pieceLength).length;
    const buffer = Buffer.allocUnsafe(task.pieceLength);
    let filled = 0;
    let pieceStarted = started;
    const throttle = options.bandwidth;
    // The bytes of piece `number` may flow once they are acquired (at once when unshaped).
    let acquired = throttle ? -1 : Infinity;
    for await (const chunk of response.body) {
      watched?.bytes(chunk.byteLength);
      let offset = 0;
      while (offset < chunk.byteLength) {
        if (number >= task.pieceCount) {
          throw new DfError("DATA_LOSS", `the origin sent more than the ${task.contentLength} bytes it announced for task ${task.id}`, {
            reason: "overlong",
            details: { taskId: task.id },
          });
        }
        if (throttle && acquired < number) {
          await throttle.acquire(task.id, length, options.signal ? { signal: options.signal } : {});
          acquired = number;
        }
        const take = Math.min(length - filled, chunk.byteLength - offset);
        buffer.set(chunk.subarray(offset, offset + take), filled);
        filled += take;
        offset += take;
        if (filled < length) continue;
        throttle?.record(task.id, length);
        if (!task.hasPiece(number) && isWanted(options, number)) {
          const piece = await task.writePiece(number, buffer.subarray(0, length), options.signal ? { signal: options.signal } : {});
          options.onPiece({ ...piece, costMs: performance.now() - pieceStarted });
        }
        number++;
        if (nextWanted(options, number) === undefined) return;
        length = pieceRange(number, task.contentLength, task.pieceLength).length;
        filled = 0;
        pieceStarted = performance.now();
      }
    }
    finished = true;
    if (number < task.pieceCount) {
      throw new DfError("DATA_LOSS", `the origin's body for task ${task.id} ended inside piece ${number} of ${task.pieceCount}`, {
        reason: "truncated",
        details: { taskId: task.id, piece: number },
      });
    }
  } finally {
    if (!finished) await response.cancel().catch(() => {});
  }
}

function isWanted(options: FetchPiecesOptions, number: number): boolean {
  for (const wanted of options.wanted()) if (wanted === number) return true;
  return false;
}
